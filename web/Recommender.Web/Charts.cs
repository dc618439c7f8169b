namespace Recommender.Web;

/// <summary>How a series is drawn.</summary>
public enum ChartMark
{
    Bars,
    Line,
}

/// <summary>One series of a chart: a value, or a gap, per category on the x axis.</summary>
/// <param name="Name">The legend's text, and the series' name in tooltips.</param>
/// <param name="Mark">Bars or a line with a dot per value.</param>
/// <param name="Values">One per category; null draws nothing there (a line breaks).</param>
/// <param name="Style">CSS class that colours and dashes it: <c>s0</c> … <c>s5</c>, <c>active</c>, <c>baseline</c> (app.css).</param>
public sealed record ChartSeries(string Name, ChartMark Mark, IReadOnlyList<double?> Values, string Style = "")
{
    /// <summary>The line styles in order, so one series keeps its colour and dash across the charts of a page.</summary>
    public static string LineStyle(int index) => $"s{index % 6}";
}
