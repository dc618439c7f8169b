using System.Globalization;
using System.Net;
using System.Text;

namespace Recommender.Data.Import;

/// <summary>Plain text of an HTML body with the counts the level rule reads: prose words, sentences, syllables, and formula or code characters.</summary>
public sealed record TextSignals(string Text, int Words, int Sentences, int Syllables, int TechnicalChars, int Chars);

/// <summary>A derived value (level or credibility) with the plain-language basis a reader is shown.</summary>
public readonly record struct Derived<T>(T Value, string Basis);

/// <summary>
/// The documented, deterministic rules (docs/demo-data.md) that give Q&amp;A content a level from its text and an author
/// a standing from their record. Only the data's own signals are read; nothing is guessed or random.
/// </summary>
public static class ContentSignals
{
    private const int SummaryLength = 280;

    /// <summary>Upper bounds of the difficulty score for levels 1..4; anything above is level 5.</summary>
    public static readonly IReadOnlyList<double> LevelBounds = [9, 12, 15, 18];

    private static readonly HashSet<string> BlockTags = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "br", "li", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "div", "table", "tr",
    };

    /// <summary>
    /// HTML to plain text, its formulas written out by <see cref="MathText"/> and code left as it is; text inside
    /// <c>code</c>/<c>pre</c> and between <c>$</c> signs (MathJax) counts as technical. The counts are of the source, so
    /// writing formulas out changes no level.
    /// </summary>
    public static TextSignals FromHtml(string html)
    {
        var text = new StringBuilder(html.Length);
        var prose = new StringBuilder(html.Length);
        // Prose of the current block, written out when a block or code starts: a formula never spans either.
        var block = new StringBuilder();
        var codeDepth = 0;
        var technical = 0;
        var chars = 0;
        var i = 0;
        while (i < html.Length)
        {
            if (html[i] == '<')
            {
                var end = html.IndexOf('>', i);
                if (end < 0)
                    break;
                var tag = html.AsSpan(i + 1, end - i - 1).Trim();
                var closing = tag.StartsWith('/');
                var nameSpan = closing ? tag[1..] : tag;
                var stop = nameSpan.IndexOfAny(' ', '/', '\t');
                var tagName = (stop < 0 ? nameSpan : nameSpan[..stop]).ToString();
                var isCode = tagName is "code" or "pre";
                if (isCode || BlockTags.Contains(tagName))
                {
                    text.Append(MathText.ToPlainText(block.ToString()));
                    block.Clear();
                }
                if (isCode)
                    codeDepth = Math.Max(0, codeDepth + (closing ? -1 : 1));
                if (BlockTags.Contains(tagName))
                {
                    text.Append('\n');
                    prose.Append('\n');
                }
                i = end + 1;
                continue;
            }
            var next = html.IndexOf('<', i);
            var chunk = WebUtility.HtmlDecode(html[i..(next < 0 ? html.Length : next)]);
            var visible = chunk.Count(c => !char.IsWhiteSpace(c));
            chars += visible;
            if (codeDepth > 0)
            {
                text.Append(chunk);
                technical += visible;
            }
            else
            {
                block.Append(chunk);
                prose.Append(chunk);
            }
            i = next < 0 ? html.Length : next;
        }
        text.Append(MathText.ToPlainText(block.ToString()));

        // MathJax: $...$ and $$...$$ outside code are formulas, not prose.
        var proseText = prose.ToString();
        var words = new StringBuilder(proseText.Length);
        var inMath = false;
        for (var k = 0; k < proseText.Length; k++)
        {
            var c = proseText[k];
            if (c == '$')
            {
                inMath = !inMath;
                if (k + 1 < proseText.Length && proseText[k + 1] == '$')
                    k++;
                continue;
            }
            if (inMath)
            {
                if (!char.IsWhiteSpace(c))
                    technical++;
            }
            else
            {
                words.Append(c);
            }
        }

        var (wordCount, sentences, syllables) = CountProse(words.ToString());
        return new TextSignals(Collapse(text.ToString()), wordCount, sentences, syllables, technical, chars);
    }

    private static (int Words, int Sentences, int Syllables) CountProse(string prose)
    {
        var words = 0;
        var syllables = 0;
        var sentences = 0;
        foreach (var paragraph in prose.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var inSentence = false;
            foreach (var raw in paragraph.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
            {
                var word = raw.Trim('(', ')', '"', '\'', ',', ';', ':', '[', ']', '*');
                var letters = word.Count(char.IsLetter);
                if (letters == 0)
                    continue;
                words++;
                inSentence = true;
                syllables += Syllables(word);
                if (word.EndsWith('.') || word.EndsWith('?') || word.EndsWith('!'))
                {
                    sentences++;
                    inSentence = false;
                }
            }
            // A paragraph or list item without a full stop still ends its sentence.
            if (inSentence)
                sentences++;
        }
        return (words, sentences, syllables);
    }

    /// <summary>Vowel groups, a silent final "e" not counted, at least one: the usual approximation behind readability scores.</summary>
    private static int Syllables(string word)
    {
        var lower = word.ToLowerInvariant();
        var count = 0;
        var previousVowel = false;
        foreach (var c in lower)
        {
            var vowel = c is 'a' or 'e' or 'i' or 'o' or 'u' or 'y';
            if (vowel && !previousVowel)
                count++;
            previousVowel = vowel;
        }
        var letters = lower.TrimEnd('.', '?', '!');
        if (letters.EndsWith('e') && !letters.EndsWith("le", StringComparison.Ordinal) && count > 1)
            count--;
        return Math.Max(1, count);
    }

    private static string Collapse(string text)
    {
        var lines = text.Split('\n').Select(l => string.Join(' ', l.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)))
            .Where(l => l.Length > 0);
        return string.Join('\n', lines);
    }

    /// <summary>The first <see cref="SummaryLength"/> characters of the text, cut at a word, on one line.</summary>
    public static string? Summary(string text)
    {
        var flat = text.Replace('\n', ' ').Trim();
        if (flat.Length == 0)
            return null;
        if (flat.Length <= SummaryLength)
            return flat;
        var cut = flat.LastIndexOf(' ', SummaryLength);
        return string.Concat(flat.AsSpan(0, cut > SummaryLength / 2 ? cut : SummaryLength), "…");
    }

    /// <summary>
    /// Level 1..5 from readability and technical density: the Flesch–Kincaid grade of the prose plus 20 points per
    /// whole share of formulas and code, cut at <see cref="LevelBounds"/>.
    /// </summary>
    public static Derived<short> Level(IReadOnlyList<TextSignals> texts)
    {
        var words = texts.Sum(t => t.Words);
        var sentences = Math.Max(1, texts.Sum(t => t.Sentences));
        var syllables = texts.Sum(t => t.Syllables);
        var chars = texts.Sum(t => t.Chars);
        var share = chars == 0 ? 0 : (double)texts.Sum(t => t.TechnicalChars) / chars;
        var grade = words == 0 ? 0 : Math.Clamp(0.39 * words / sentences + 11.8 * syllables / words - 15.59, 0, 20);
        var score = grade + 20 * share;
        var level = (short)(1 + LevelBounds.Count(b => score >= b));
        var basis = string.Create(CultureInfo.InvariantCulture,
            $"reads at US school grade {grade:F0} (Flesch–Kincaid, {words:N0} words in {sentences:N0} sentences); {share * 100:F0}% of the text is formulas or code");
        return new(level, basis);
    }

    /// <summary>
    /// Credibility 0..1 of an author: 0.4 × reputation (log scale, 10,000 or more counts fully) + 0.3 × the share of
    /// their answers that were accepted + 0.3 × the share scored above zero (both shares smoothed by one answer each
    /// way). Someone who never answered is judged on reputation alone and gets at most 0.4.
    /// </summary>
    public static Derived<float> Standing(int reputation, int sites, IReadOnlyList<(int Score, bool Accepted)> answers)
    {
        var reputationPart = Math.Clamp(Math.Log10(1 + Math.Max(0, reputation)) / 4, 0, 1);
        var where = sites > 1 ? string.Create(CultureInfo.InvariantCulture, $" across {sites} sites") : "";
        if (answers.Count == 0)
        {
            return new((float)Math.Round(0.4 * reputationPart, 2),
                string.Create(CultureInfo.InvariantCulture, $"reputation {reputation:N0}{where}; has not answered a question here"));
        }
        var accepted = (double)answers.Count(a => a.Accepted) / answers.Count;
        var positive = (double)answers.Count(a => a.Score > 0) / answers.Count;
        // The shares enter the score as if the author had one more answer accepted and one more not, so a single answer
        // is not yet a record; the basis shows the plain shares.
        var acceptedRecord = (answers.Count(a => a.Accepted) + 1.0) / (answers.Count + 2);
        var positiveRecord = (answers.Count(a => a.Score > 0) + 1.0) / (answers.Count + 2);
        var credibility = (float)Math.Round(0.4 * reputationPart + 0.3 * acceptedRecord + 0.3 * positiveRecord, 2);
        var noun = answers.Count == 1 ? "answer" : "answers";
        return new(credibility, string.Create(CultureInfo.InvariantCulture,
            $"reputation {reputation:N0}{where}; {answers.Count} {noun}, accepted {accepted * 100:F0}% of the time, {positive * 100:F0}% scored above zero"));
    }
}
