using System.Globalization;

namespace Recommender.Web;

/// <summary>How a series is drawn.</summary>
public enum ChartMark
{
    Bars,
    /// <summary>A line through the values with a marker on each.</summary>
    Line,
    /// <summary>Markers only, to pick out single values (the active model) on top of a line.</summary>
    Points,
}

/// <summary>The y axis's range: what a reader expects the scale of this measure to be.</summary>
public enum ChartRange
{
    /// <summary>From zero to a round number above the largest value: counts, errors, anything bars show.</summary>
    FromZero,
    /// <summary>Exactly 0 to 1: shares and proportions.</summary>
    Share,
    /// <summary>Fitted around the values, for a scale where zero means nothing (skill points).</summary>
    Fit,
}

/// <summary>A marker's shape, so that series differ by more than colour.</summary>
public enum ChartShape
{
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
    Plus,
}

/// <summary>Colour, dash and marker of one series; the legend draws the same three.</summary>
/// <param name="Colour">A colour of the Okabe–Ito palette, told apart by people with any common colour-vision deficiency.</param>
/// <param name="Dash">SVG <c>stroke-dasharray</c>, or null for a solid line.</param>
/// <param name="Shape">The marker on each value and in the legend.</param>
public sealed record ChartStyle(string Colour, string? Dash, ChartShape Shape)
{
    /// <summary>Okabe and Ito's palette without its yellow, which is too faint on white; each colour has its own dash and shape.</summary>
    public static IReadOnlyList<ChartStyle> Palette { get; } =
    [
        new("#0072B2", null, ChartShape.Circle),
        new("#D55E00", "7 3", ChartShape.Square),
        new("#009E73", "2 3", ChartShape.Triangle),
        new("#CC79A7", "9 3 2 3", ChartShape.Diamond),
        new("#E69F00", "4 2", ChartShape.TriangleDown),
        new("#56B4E9", "12 4", ChartShape.Plus),
    ];

    /// <summary>A reference line (a baseline to beat): black and dashed, unlike any palette entry.</summary>
    public static ChartStyle Baseline { get; } = new("#000000", "5 3", ChartShape.Square);

    /// <summary>The style at a fixed place in the palette, so one series keeps its look across the charts of a page.</summary>
    public static ChartStyle Of(int index) => Palette[((index % Palette.Count) + Palette.Count) % Palette.Count];

    /// <summary>An SVG path for this style's marker centred on (x, y), <paramref name="size"/> from centre to edge.</summary>
    public string Marker(double x, double y, double size)
    {
        var s = size;
        return Shape switch
        {
            ChartShape.Square => $"M{F(x - s * 0.85)},{F(y - s * 0.85)}h{F(s * 1.7)}v{F(s * 1.7)}h{F(-s * 1.7)}Z",
            ChartShape.Triangle => $"M{F(x)},{F(y - s * 1.1)}L{F(x + s)},{F(y + s * 0.8)}L{F(x - s)},{F(y + s * 0.8)}Z",
            ChartShape.TriangleDown => $"M{F(x)},{F(y + s * 1.1)}L{F(x + s)},{F(y - s * 0.8)}L{F(x - s)},{F(y - s * 0.8)}Z",
            ChartShape.Diamond => $"M{F(x)},{F(y - s * 1.2)}L{F(x + s * 1.2)},{F(y)}L{F(x)},{F(y + s * 1.2)}L{F(x - s * 1.2)},{F(y)}Z",
            ChartShape.Plus => $"M{F(x - s * 0.35)},{F(y - s * 1.1)}h{F(s * 0.7)}v{F(s * 0.75)}h{F(s * 0.75)}v{F(s * 0.7)}h{F(-s * 0.75)}v{F(s * 0.75)}h{F(-s * 0.7)}v{F(-s * 0.75)}h{F(-s * 0.75)}v{F(-s * 0.7)}h{F(s * 0.75)}Z",
            _ => $"M{F(x - s)},{F(y)}a{F(s)},{F(s)} 0 1,0 {F(2 * s)},0a{F(s)},{F(s)} 0 1,0 {F(-2 * s)},0Z",
        };
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>One series of a chart: a value, or a gap, per category on the x axis.</summary>
/// <param name="Name">The legend's text, and the series' name in tooltips.</param>
/// <param name="Mark">Bars, a line with a marker per value, or markers only.</param>
/// <param name="Values">One per category; null draws nothing there (a line breaks).</param>
/// <param name="Style">Colour, dash and marker; null takes the palette entry of the series' place in the chart.</param>
/// <param name="Key">A stable name for the page's markup (<c>data-series</c>), such as a goal's id; the name when null.</param>
public sealed record ChartSeries(string Name, ChartMark Mark, IReadOnlyList<double?> Values, ChartStyle? Style = null, string? Key = null);
