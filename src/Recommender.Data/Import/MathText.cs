using System.Text;

namespace Recommender.Data.Import;

/// <summary>
/// MathJax formulas in Stack Exchange text as readable Unicode:
/// <c>$\lvert\psi\rangle = \frac{1}{\sqrt{2}}(\lvert 0\rangle + \lvert 1\rangle)$</c> reads "|ψ⟩ = 1/√2(|0⟩ + |1⟩)". Cards
/// show plain text, where TeX source is noise and one long unbreakable formula widens a phone's page. Text outside formulas is left as written, and a pair of single dollars counts as a formula
/// only when it reads like one, so prose about money ("costs $5 and $10") and shell variables stays whole. Never throws.
/// </summary>
internal static class MathText
{
    public static string ToPlainText(string text)
    {
        if (!text.Contains('$') && !text.Contains('\\'))
            return text;
        var output = new StringBuilder(text.Length);
        var renderer = new Renderer();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '$')
            {
                output.Append('$');
                i += 2;
                continue;
            }
            if (FormulaAt(text, i) is not { } formula)
            {
                output.Append(text[i++]);
                continue;
            }
            var plain = renderer.Render(text[formula.From..formula.To]);
            i = formula.End;
            if (plain.Length > 0)
            {
                // A displayed formula has a line of its own on the page; in one line of text it is at least a word of its own.
                if (formula.Display && output.Length > 0 && !char.IsWhiteSpace(output[^1]) && output[^1] is not ('(' or '['))
                    output.Append(' ');
                output.Append(plain);
                if (formula.Display && i < text.Length && char.IsLetterOrDigit(text[i]))
                    output.Append(' ');
            }
            else if (output.Length == 0 || char.IsWhiteSpace(output[^1]))
            {
                // A formula that was only definitions leaves nothing; the prose around it keeps one space, not two.
                while (i < text.Length && text[i] is ' ' or '\t')
                    i++;
            }
        }
        return output.ToString();
    }

    /// <summary>The formula that starts at <paramref name="i"/>: its content, where its closing delimiter ends, and whether it is displayed.</summary>
    private static (int From, int To, int End, bool Display)? FormulaAt(string text, int i)
    {
        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '(' or '[')
        {
            var display = text[i + 1] == '[';
            var close = text.IndexOf(display ? @"\]" : @"\)", i + 2, StringComparison.Ordinal);
            return close < 0 ? null : (i + 2, close, close + 2, display);
        }
        if (text.AsSpan(i).StartsWith(@"\begin{", StringComparison.Ordinal))
        {
            // MathJax typesets a whole environment outside dollars too (\begin{align} … \end{align}).
            var nameEnd = text.IndexOf('}', i);
            if (nameEnd < 0 || EnvironmentEnd(text, nameEnd + 1, text[(i + 7)..nameEnd]) is not { } environment)
                return null;
            return (i, environment.After, environment.After, true);
        }
        if (text[i] != '$')
            return null;
        if (i + 1 < text.Length && text[i + 1] == '$')
        {
            var close = ClosingDollar(text, i + 2, display: true);
            return close > i + 2 && LooksLikeFormula(text.AsSpan(i + 2, close - i - 2), display: true) ? (i + 2, close, close + 2, true) : null;
        }
        var end = ClosingDollar(text, i + 1, display: false);
        if (end <= i + 1 || (end + 1 < text.Length && char.IsAsciiDigit(text[end + 1])))
            return null;
        return LooksLikeFormula(text.AsSpan(i + 1, end - i - 1), display: false) ? (i + 1, end, end + 1, false) : null;
    }

    /// <summary>Where the <c>\end</c> that closes an environment whose body starts at <paramref name="from"/> begins and ends.</summary>
    private static (int Close, int After)? EnvironmentEnd(string text, int from, string environment)
    {
        var begin = $"\\begin{{{environment}}}";
        var end = $"\\end{{{environment}}}";
        var nesting = 1;
        var j = from;
        while (true)
        {
            var close = text.IndexOf(end, j, StringComparison.Ordinal);
            if (close < 0)
                return null;
            var open = text.IndexOf(begin, j, StringComparison.Ordinal);
            if (open >= 0 && open < close)
            {
                nesting++;
                j = open + begin.Length;
                continue;
            }
            j = close + end.Length;
            if (--nesting == 0)
                return (close, j);
        }
    }

    private static int ClosingDollar(string text, int from, bool display)
    {
        for (var j = from; j < text.Length; j++)
        {
            if (text[j] == '\\')
                j++;
            else if (text[j] == '$' && (!display || (j + 1 < text.Length && text[j + 1] == '$')))
                return j;
        }
        return -1;
    }

    /// <summary>
    /// Whether the text between two dollars is a formula. A word of four or more letters, some lower-case, outside braces
    /// and commands makes it prose or shell (<c>$fee \ --tx-in $txhash#$address</c>); a TeX command (<c>\alpha</c>) makes
    /// it a formula. Without one, only symbols, digits and names are (<c>O(n)</c>, <c>n-1</c>, <c>2^n</c>, <c>CNOT</c>),
    /// with no blank just inside a single dollar (Pandoc's rule), so "costs $5 and $10" stays prose.
    /// </summary>
    private static bool LooksLikeFormula(ReadOnlySpan<char> content, bool display)
    {
        if (content.IsWhiteSpace())
            return false;
        var command = false;
        var braces = 0;
        var letters = 0;
        var lower = false;
        var shell = false;
        for (var k = 0; k < content.Length; k++)
        {
            var c = content[k];
            if (c == '\\' && k + 1 < content.Length)
            {
                // A control word (\alpha) is TeX; a control symbol (\%, \{, \ ) is neutral, as shells use "\ " too.
                command |= char.IsAsciiLetter(content[k + 1]);
                k++;
                while (k + 1 < content.Length && char.IsAsciiLetter(content[k]) && char.IsAsciiLetter(content[k + 1]))
                    k++;
                letters = 0;
                continue;
            }
            if (c == '{')
                braces++;
            else if (c == '}')
                braces = Math.Max(0, braces - 1);
            var letter = char.IsAsciiLetter(c) && braces == 0;
            letters = letter ? letters + 1 : 0;
            lower = letter && ((lower && letters > 1) || char.IsAsciiLetterLower(c));
            if (letters >= 4 && lower)
                return false;
            shell |= c is '#' or '@' or '"' or '?' or '%' or '&' or '`' or '$';
        }
        if (command)
            return true;
        if (shell)
            return false;
        if (display)
            return true;
        var trimmed = content.Trim();
        return (trimmed.Length == 1 && char.IsAsciiLetter(trimmed[0]))
            || !(char.IsWhiteSpace(content[0]) || char.IsWhiteSpace(content[^1]) || content.Contains('\n'));
    }

    private sealed record Macro(int Parameters, string Body);

    /// <summary>How an environment's cells and rows read: a matrix as <c>[a, b; c, d]</c>, aligned equations as <c>a = b; c = d</c>.</summary>
    private sealed record Grid(string Open, string Cell, string Row, string Close)
    {
        public static readonly Grid None = new("", " ", "; ", "");

        public static Grid For(string environment) => environment.TrimEnd('*') switch
        {
            "pmatrix" or "bmatrix" => new("[", ", ", "; ", "]"),
            "vmatrix" => new("|", ", ", "; ", "|"),
            "Vmatrix" => new("‖", ", ", "; ", "‖"),
            "Bmatrix" => new("{", ", ", "; ", "}"),
            "matrix" or "smallmatrix" or "array" or "tabular" or "cases" or "dcases" => new("", ", ", "; ", ""),
            _ => None,
        };
    }

    /// <summary>
    /// Renders one formula's TeX. Macros a post defines (<c>\newcommand</c>, <c>\def</c>) are expanded in its later
    /// formulas, as MathJax does on the page; nesting and expansion are bounded so no input can exhaust the stack.
    /// </summary>
    private sealed class Renderer
    {
        private const int MaxDepth = 24;
        private const int MaxExpandedChars = 20_000;
        private readonly Dictionary<string, Macro> _macros = new(StringComparer.Ordinal);
        private int _expandedChars;

        public string Render(string tex) =>
            string.Join(' ', Render(tex, 0, Grid.None).Split(' ', StringSplitOptions.RemoveEmptyEntries));

        private string Render(string tex, int depth, Grid grid)
        {
            if (depth > MaxDepth)
                return string.Concat(tex.Where(c => c is not ('\\' or '{' or '}')));
            var o = new StringBuilder(tex.Length);
            var overAt = -1;
            var i = 0;
            while (i < tex.Length)
            {
                var c = tex[i];
                switch (c)
                {
                    case '\\':
                        Command(tex, ref i, o, depth, grid, ref overAt);
                        break;
                    case '{':
                        o.Append(Render(Group(tex, ref i), depth + 1, Grid.None));
                        break;
                    case '}' or '$':
                        i++;
                        break;
                    case '^' or '_':
                        i++;
                        Script(o, Render(Argument(tex, ref i), depth + 1, Grid.None).Trim(), c == '^');
                        break;
                    case '&':
                        i++;
                        Separator(o, grid.Cell);
                        break;
                    case '|':
                        i++;
                        Bar(o, "|", tex, ref i);
                        break;
                    case '%':
                        // A comment, to the end of the line, as in TeX (a percent sign is \%).
                        while (i < tex.Length && tex[i] != '\n')
                            i++;
                        break;
                    default:
                        i++;
                        if (c == '~' || char.IsWhiteSpace(c))
                            Space(o);
                        else
                            o.Append(c);
                        break;
                }
            }
            if (overAt >= 0)
            {
                var numerator = o.ToString(0, overAt).Trim();
                var denominator = o.ToString(overAt, o.Length - overAt).Trim();
                return Fraction(numerator, denominator);
            }
            return o.ToString();
        }

        private void Command(string tex, ref int i, StringBuilder o, int depth, Grid grid, ref int overAt)
        {
            var spacedBefore = i > 0 && char.IsWhiteSpace(tex[i - 1]);
            i++;
            if (i >= tex.Length)
                return;
            if (!char.IsAsciiLetter(tex[i]))
            {
                var symbol = tex[i++];
                switch (symbol)
                {
                    case '\\':
                        Separator(o, grid.Row);
                        SkipDimension(tex, ref i, bracketed: true);
                        break;
                    case ',' or ';' or ':' or '!' or '>':
                        break;
                    case '|':
                        o.Append('‖');
                        break;
                    default:
                        if (char.IsWhiteSpace(symbol))
                            Space(o);
                        else
                            o.Append(symbol);
                        break;
                }
                return;
            }
            var start = i;
            while (i < tex.Length && char.IsAsciiLetter(tex[i]))
                i++;
            var name = tex[start..i];
            if (i < tex.Length && tex[i] == '*' && name is "operatorname" or "newcommand" or "renewcommand" or "DeclareMathOperator" or "hspace" or "vspace")
                i++;

            if (_macros.TryGetValue(name, out var macro))
            {
                Expand(macro, name, tex, ref i, o, depth, grid);
                return;
            }
            switch (name)
            {
                case "def" or "gdef" or "edef" or "xdef":
                    Def(tex, ref i);
                    return;
                case "newcommand" or "renewcommand" or "providecommand":
                    NewCommand(tex, ref i);
                    return;
                case "DeclareMathOperator":
                    {
                        var operatorName = Argument(tex, ref i).Trim().TrimStart('\\');
                        var body = Argument(tex, ref i);
                        if (operatorName.Length > 0)
                            _macros[operatorName] = new Macro(0, $"\\operatorname{{{body}}}");
                        return;
                    }
                case "let":
                    Argument(tex, ref i);
                    SkipSpaces(tex, ref i);
                    if (i < tex.Length && tex[i] == '=')
                        i++;
                    Argument(tex, ref i);
                    return;
                case "begin":
                    Environment(tex, ref i, o, depth);
                    return;
                case "end":
                    Argument(tex, ref i);
                    return;
                case "over":
                    overAt = o.Length;
                    return;
                case "frac" or "dfrac" or "tfrac" or "cfrac":
                    {
                        var numerator = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                        var denominator = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                        o.Append(Fraction(numerator, denominator));
                        return;
                    }
                case "binom" or "dbinom" or "tbinom":
                    {
                        var n = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                        var k = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                        o.Append('(').Append(n).Append(" choose ").Append(k).Append(')');
                        return;
                    }
                case "sqrt":
                    {
                        var index = Optional(tex, ref i) is { } root ? Render(root, depth + 1, Grid.None).Trim() : "";
                        var radicand = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                        o.Append(Superscript(index) ?? index).Append('√').Append(Wrap(radicand));
                        return;
                    }
                case "mathbb" or "Bbb" or "mathds":
                    foreach (var letter in Render(Argument(tex, ref i), depth + 1, Grid.None))
                        o.Append(DoubleStruck(letter));
                    return;
                case "ket" or "Ket" or "bra" or "Bra" or "braket" or "Braket" or "ketbra":
                    BraKet(name, tex, ref i, o, depth);
                    return;
                case "pmod":
                    TrimEnd(o);
                    o.Append(" (mod ").Append(Render(Argument(tex, ref i), depth + 1, Grid.None).Trim()).Append(')');
                    return;
                case "tag":
                    o.Append(" (").Append(Render(Argument(tex, ref i), depth + 1, Grid.None).Trim()).Append(')');
                    return;
                case "left" or "right":
                    Delimiter(name == "left", tex, ref i, o, depth);
                    return;
                case "quad" or "qquad" or "enspace" or "thinspace" or "medspace" or "thickspace":
                    Space(o);
                    SkipSpaces(tex, ref i);
                    return;
                case "cr" or "newline":
                    Separator(o, grid.Row);
                    return;
                case "hskip" or "vskip" or "kern" or "mkern" or "mskip" or "raise" or "lower" or "moveleft" or "moveright":
                    SkipDimension(tex, ref i, bracketed: false);
                    return;
                case "enclose":
                    Argument(tex, ref i);
                    Optional(tex, ref i);
                    return;
                case "rule":
                    Optional(tex, ref i);
                    Argument(tex, ref i);
                    Argument(tex, ref i);
                    return;
            }
            if (Accents.TryGetValue(name, out var accent))
            {
                var body = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
                o.Append(body);
                if (body.Length == 1 && char.IsLetterOrDigit(body[0]))
                    o.Append(accent);
                return;
            }
            if (Dropped.Contains(name))
            {
                SkipSpaces(tex, ref i);
                return;
            }
            if (DroppedWithArgument.Contains(name))
            {
                Argument(tex, ref i);
                return;
            }
            if (Wrappers.Contains(name))
            {
                // The argument that follows renders as any group does; only the styling is lost.
                if (name is "smash" or "bbox")
                    Optional(tex, ref i);
                SkipSpaces(tex, ref i);
                return;
            }
            if (Symbols.TryGetValue(name, out var glyph))
            {
                // A blank before a letter only ends the command's name ("\Delta t" is Δt); elsewhere it is how the
                // author spaced the formula ("\rho = \sigma"), and it stays.
                o.Append(glyph);
                var next = i;
                SkipSpaces(tex, ref next);
                if (next < tex.Length && char.IsAsciiLetter(tex[next]))
                    i = next;
                return;
            }
            if (Operators.TryGetValue(name, out var op))
            {
                // Spaced on both sides as the author spaced its left side: "a \otimes b" and "a\otimes b" come out even.
                if (spacedBefore)
                    Space(o);
                o.Append(op);
                SkipSpaces(tex, ref i);
                if (spacedBefore && i < tex.Length && tex[i] is not (')' or ']' or '}' or ',' or ';' or '.'))
                    Space(o);
                return;
            }
            switch (name)
            {
                case "langle" or "lvert" or "lceil" or "lfloor":
                    o.Append(Opening(name));
                    SkipSpaces(tex, ref i);
                    return;
                case "rangle" or "rvert" or "rceil" or "rfloor":
                    TrimEnd(o);
                    o.Append(Closing(name));
                    return;
                case "vert":
                    Bar(o, "|", tex, ref i);
                    return;
            }
            Word(o, name, tex, ref i);
        }

        private static string Opening(string name) => name switch { "langle" => "⟨", "lvert" => "|", "lceil" => "⌈", _ => "⌊" };

        private static string Closing(string name) => name switch { "rangle" => "⟩", "rvert" => "|", "rceil" => "⌉", _ => "⌋" };

        /// <summary>An unknown command or a function name (<c>\log</c>, <c>\mod</c>) as its name, spaced from letters around it.</summary>
        private static void Word(StringBuilder o, string name, string tex, ref int i)
        {
            if (o.Length > 0 && char.IsLetterOrDigit(o[^1]))
                o.Append(' ');
            o.Append(name);
            SkipSpaces(tex, ref i);
            if (i < tex.Length && char.IsLetterOrDigit(tex[i]))
                o.Append(' ');
        }

        /// <summary>
        /// A bar opens a ket or a norm, or closes a bra: it closes when a ⟨ or an opening bar before it is still open, and
        /// then hugs what it closes, so <c>\langle 0 \vert</c> reads "⟨0|".
        /// </summary>
        private static void Bar(StringBuilder o, string bar, string tex, ref int i)
        {
            var open = false;
            for (var k = 0; k < o.Length; k++)
            {
                if (o[k] is '⟨')
                    open = true;
                else if (o[k] is '⟩')
                    open = false;
                else if (o[k] is '|')
                    open = !open;
            }
            if (open)
                TrimEnd(o);
            o.Append(bar);
            if (!open)
                SkipSpaces(tex, ref i);
        }

        /// <summary><c>\left(</c> and <c>\right)</c>: the delimiter alone, <c>.</c> as none, <c>&lt;</c>/<c>&gt;</c> as angle brackets.</summary>
        private void Delimiter(bool left, string tex, ref int i, StringBuilder o, int depth)
        {
            var token = Argument(tex, ref i);
            if (!left)
                TrimEnd(o);
            var shown = token switch
            {
                "." => "",
                "<" => "⟨",
                ">" => "⟩",
                @"\vert" or @"\lvert" or @"\rvert" or "|" => "|",
                _ => Render(token, depth + 1, Grid.None),
            };
            o.Append(shown);
            if (left)
                SkipSpaces(tex, ref i);
        }

        private void BraKet(string name, string tex, ref int i, StringBuilder o, int depth)
        {
            var first = Render(Argument(tex, ref i), depth + 1, Grid.None).Trim();
            var j = i;
            SkipSpaces(tex, ref j);
            var second = (name is "braket" or "Braket" or "ketbra") && j < tex.Length && tex[j] == '{'
                ? Render(Argument(tex, ref i), depth + 1, Grid.None).Trim()
                : null;
            o.Append(name switch
            {
                "ket" or "Ket" => $"|{first}⟩",
                "bra" or "Bra" => $"⟨{first}|",
                "ketbra" => $"|{first}⟩⟨{second}|",
                _ => second is null ? $"⟨{first}⟩" : $"⟨{first}|{second}⟩",
            });
        }

        /// <summary><c>\begin{pmatrix} a &amp; b \\ c &amp; d \end{pmatrix}</c> as "[a, b; c, d]"; a missing <c>\end</c> ends at the formula's end.</summary>
        private void Environment(string tex, ref int i, StringBuilder o, int depth)
        {
            var environment = Argument(tex, ref i).Trim();
            if (environment is "array" or "tabular")
            {
                Optional(tex, ref i);
                Argument(tex, ref i);
            }
            else if (environment is "alignat" or "alignat*" or "alignedat")
            {
                Argument(tex, ref i);
            }
            var body = tex[i..];
            if (EnvironmentEnd(tex, i, environment) is { } end)
            {
                body = tex[i..end.Close];
                i = end.After;
            }
            else
            {
                i = tex.Length;
            }
            var grid = Grid.For(environment);
            var cells = Render(body, depth + 1, grid).Trim().TrimEnd(',', ';', ' ');
            o.Append(grid.Open).Append(cells).Append(grid.Close);
        }

        private void Def(string tex, ref int i)
        {
            SkipSpaces(tex, ref i);
            var name = ControlWord(tex, ref i);
            var parameters = 0;
            while (i < tex.Length && tex[i] != '{')
            {
                if (tex[i] == '#')
                    parameters++;
                i++;
            }
            var body = i < tex.Length ? Group(tex, ref i) : "";
            if (name is not null)
                _macros[name] = new Macro(parameters, body);
        }

        private void NewCommand(string tex, ref int i)
        {
            SkipSpaces(tex, ref i);
            var name = i < tex.Length && tex[i] == '{' ? Group(tex, ref i).Trim().TrimStart('\\') : ControlWord(tex, ref i);
            var parameters = Optional(tex, ref i) is { } count && int.TryParse(count.Trim(), out var n) ? Math.Clamp(n, 0, 9) : 0;
            Optional(tex, ref i);
            var body = Argument(tex, ref i);
            if (!string.IsNullOrEmpty(name))
                _macros[name] = new Macro(parameters, body);
        }

        private void Expand(Macro macro, string name, string tex, ref int i, StringBuilder o, int depth, Grid grid)
        {
            var arguments = new string[macro.Parameters];
            for (var k = 0; k < arguments.Length; k++)
                arguments[k] = Argument(tex, ref i);
            var expanded = new StringBuilder(macro.Body.Length);
            for (var k = 0; k < macro.Body.Length; k++)
            {
                var c = macro.Body[k];
                if (c == '#' && k + 1 < macro.Body.Length && macro.Body[k + 1] is >= '1' and <= '9' && macro.Body[k + 1] - '1' < arguments.Length)
                    expanded.Append(arguments[macro.Body[++k] - '1']);
                else
                    expanded.Append(c);
            }
            _expandedChars += expanded.Length;
            if (_expandedChars > MaxExpandedChars)
            {
                Word(o, name, tex, ref i);
                return;
            }
            o.Append(Render(expanded.ToString(), depth + 1, grid));
        }

        private static string? ControlWord(string tex, ref int i)
        {
            if (i >= tex.Length || tex[i] != '\\')
                return null;
            var start = ++i;
            while (i < tex.Length && char.IsAsciiLetter(tex[i]))
                i++;
            if (i == start && i < tex.Length)
                i++;
            return tex[start..i];
        }

        /// <summary>A TeX argument: a braced group's content, a control sequence, or one character; empty at the end.</summary>
        /// <remarks>
        /// A command that takes arguments comes with them, as MathJax reads it: <c>\psi_\mathrm{A}</c> is ψ with the
        /// subscript A, not ψ with an empty subscript followed by an A.
        /// </remarks>
        private static string Argument(string tex, ref int i, int nesting = 0)
        {
            SkipSpaces(tex, ref i);
            if (i >= tex.Length || tex[i] == '}')
                return "";
            if (tex[i] == '{')
                return Group(tex, ref i);
            if (tex[i] != '\\')
                return tex[i++].ToString();
            var start = i;
            var name = ControlWord(tex, ref i);
            if (nesting < MaxDepth && name is not null)
            {
                if (name == "sqrt")
                    Optional(tex, ref i);
                for (var k = ArgumentCount(name); k > 0; k--)
                    Argument(tex, ref i, nesting + 1);
            }
            return tex[start..i];
        }

        private static int ArgumentCount(string name) => name switch
        {
            "frac" or "dfrac" or "tfrac" or "cfrac" or "binom" or "dbinom" or "tbinom" => 2,
            "sqrt" or "mathbb" or "Bbb" or "mathds" or "ket" or "Ket" or "bra" or "Bra" => 1,
            _ when Wrappers.Contains(name) || Accents.ContainsKey(name) => 1,
            _ => 0,
        };

        /// <summary>The content of the group opening at <paramref name="i"/>; an unclosed one runs to the end.</summary>
        private static string Group(string tex, ref int i)
        {
            var start = ++i;
            var nesting = 1;
            for (; i < tex.Length; i++)
            {
                if (tex[i] == '\\')
                    i++;
                else if (tex[i] == '{')
                    nesting++;
                else if (tex[i] == '}' && --nesting == 0)
                    return tex[start..i++];
            }
            i = tex.Length;
            return tex[Math.Min(start, tex.Length)..];
        }

        private static string? Optional(string tex, ref int i)
        {
            var j = i;
            SkipSpaces(tex, ref j);
            if (j >= tex.Length || tex[j] != '[')
                return null;
            var close = tex.IndexOf(']', j);
            if (close < 0)
                return null;
            i = close + 1;
            return tex[(j + 1)..close];
        }

        /// <summary>Skips a length such as <c>2pt</c> or <c>-1.5em</c> (after <c>\\</c> only in brackets: <c>\\[2pt]</c>).</summary>
        private static void SkipDimension(string tex, ref int i, bool bracketed)
        {
            var j = i;
            SkipSpaces(tex, ref j);
            if (!bracketed && j < tex.Length && tex[j] == '{')
            {
                Group(tex, ref j);
                i = j;
                return;
            }
            if (bracketed)
            {
                if (j >= tex.Length || tex[j] != '[')
                    return;
                j++;
            }
            if (j < tex.Length && tex[j] is '-' or '+')
                j++;
            var digits = j;
            while (j < tex.Length && (char.IsAsciiDigit(tex[j]) || tex[j] == '.'))
                j++;
            if (j == digits)
                return;
            SkipSpaces(tex, ref j);
            var unit = j;
            while (j < tex.Length && char.IsAsciiLetterLower(tex[j]) && j - unit < 2)
                j++;
            if (bracketed)
            {
                if (j >= tex.Length || tex[j] != ']')
                    return;
                j++;
            }
            i = j;
        }

        private static void SkipSpaces(string tex, ref int i)
        {
            while (i < tex.Length && char.IsWhiteSpace(tex[i]))
                i++;
        }
    }

    private static void Space(StringBuilder o)
    {
        if (o.Length > 0 && o[^1] != ' ')
            o.Append(' ');
    }

    private static void TrimEnd(StringBuilder o)
    {
        while (o.Length > 0 && o[^1] == ' ')
            o.Length--;
    }

    private static void Separator(StringBuilder o, string separator)
    {
        TrimEnd(o);
        // An empty cell (a && b) adds no second comma.
        var mark = separator.TrimEnd();
        if (mark.Length > 0 && o.Length >= mark.Length && o.ToString(o.Length - mark.Length, mark.Length) == mark)
        {
            o.Append(separator[mark.Length..]);
            return;
        }
        if (separator == " ")
            Space(o);
        else
            o.Append(separator);
    }

    private static string Fraction(string numerator, string denominator) =>
        denominator.Length == 0 ? numerator : numerator.Length == 0 ? $"/{Wrap(denominator)}" : $"{Wrap(numerator)}/{Wrap(denominator)}";

    /// <summary>Parentheses around a part of a fraction, root or script that is more than one term: "√2" but "√(1-p)".</summary>
    private static string Wrap(string part) => IsTerm(part) ? part : $"({part})";

    private static bool IsTerm(string part)
    {
        if (part.Length == 0)
            return false;
        var nesting = 0;
        foreach (var c in part)
        {
            if (c is '(' or '[')
                nesting++;
            else if (c is ')' or ']')
                nesting--;
            else if (nesting == 0 && (char.IsWhiteSpace(c) || "+-−=/·×⊗⊕,;:<>≤≥≠≈→←↔⇒⇔↦±∈∉⊂⊆⊃⊇∪∩∖≡∼≃≅∝∧∨".Contains(c)))
                return false;
        }
        return true;
    }

    /// <summary>
    /// <c>x^2</c> as "x²" and <c>\Psi_i</c> as "Ψᵢ" when the script is one character or a number Unicode has a
    /// raised or lowered form of; marks such as † and ⊗ stay as they are. Anything else keeps its <c>^</c> or <c>_</c>.
    /// </summary>
    private static void Script(StringBuilder o, string script, bool raised)
    {
        if (script.Length == 0)
            return;
        if (raised && script == "∘")
        {
            o.Append('°');
            return;
        }
        var marks = script.TakeWhile(c => c is '†' or '*' or '′' or '⊗' or '⊕' or '\'').Count();
        var rest = script[marks..];
        var converted = rest.Length == 0 ? "" : raised ? Superscript(rest) : Subscript(rest);
        if (converted is not null)
        {
            o.Append(script.AsSpan(0, marks)).Append(converted);
            return;
        }
        o.Append(raised ? '^' : '_').Append(script.Length == 1 ? script : Wrap(script));
    }

    private static string? Superscript(string script) => Shifted(script, "0123456789+-−=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾", SuperscriptLetters);

    private static string? Subscript(string script) => Shifted(script, "0123456789+-−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎", SubscriptLetters);

    private static string? Shifted(string script, string plain, string shifted, IReadOnlyDictionary<char, char> letters)
    {
        if (script.Length == 0)
            return null;
        if (script.Length == 1 && letters.TryGetValue(script[0], out var letter))
            return letter.ToString();
        // Beyond one letter only a number, perhaps signed: "x^{-1}", "x_{10}".
        var number = script.Length > 1 && script[0] is '-' or '+' or '−' ? script[1..] : script;
        if (number.Length == 0 || !number.All(char.IsAsciiDigit) && script.Length > 1)
            return null;
        var result = new StringBuilder(script.Length);
        foreach (var c in script)
        {
            var k = plain.IndexOf(c);
            if (k < 0)
                return null;
            result.Append(shifted[k]);
        }
        return result.ToString();
    }

    private static char DoubleStruck(char c) => c switch
    {
        'C' => 'ℂ',
        'H' => 'ℍ',
        'N' => 'ℕ',
        'P' => 'ℙ',
        'Q' => 'ℚ',
        'R' => 'ℝ',
        'Z' => 'ℤ',
        _ => c,
    };

    private static readonly Dictionary<char, char> SuperscriptLetters = Pairs(
        "abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ");

    private static readonly Dictionary<char, char> SubscriptLetters = Pairs("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ");

    private static Dictionary<char, char> Pairs(string from, string to) => from.Zip(to).ToDictionary(p => p.First, p => p.Second);

    /// <summary>Combining marks for an accent on a single letter: <c>\hat{U}</c> reads "Û".</summary>
    private static readonly Dictionary<string, char> Accents = new[]
    {
        "hat", "widehat", "tilde", "widetilde", "bar", "overline", "vec", "dot", "ddot", "check", "breve", "acute", "grave",
        "underline",
    }.Zip("\u0302\u0302\u0303\u0303\u0304\u0304\u20D7\u0307\u0308\u030C\u0306\u0301\u0300\u0332")
        .ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);

    /// <summary>Commands whose group is the content: fonts, text, boxes and overlaps.</summary>
    private static readonly HashSet<string> Wrappers = new(StringComparer.Ordinal)
    {
        "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathcal", "mathscr", "mathfrak", "mathnormal", "boldsymbol", "bm",
        "pmb", "text", "textrm", "textbf", "textit", "texttt", "textsf", "textnormal", "textup", "emph", "mbox", "hbox", "fbox",
        "boxed", "operatorname", "ce", "smash", "rlap", "llap", "mathrlap", "mathllap", "mathclap", "clap", "underbrace",
        "overbrace", "displaylines", "bbox",
    };

    /// <summary>Sizes, styles, spacing and rules that change how a formula looks, not what it says.</summary>
    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal)
    {
        "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits", "nonumber", "notag", "hline",
        "vline", "hfill", "centering", "large", "Large", "LARGE", "huge", "Huge", "small", "tiny", "normalsize", "footnotesize",
        "scriptsize", "rm", "bf", "it", "cal", "sf", "tt", "allowbreak", "strut", "mathstrut", "noindent", "relax", "middle",
        "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "bigm", "Bigm",
        "negthinspace", "negmedspace", "negthickspace", "atop",
    };

    /// <summary>Commands dropped with their first argument: colours, labels, invisible boxes, loaded extensions, the upper part of <c>\stackrel</c>.</summary>
    private static readonly HashSet<string> DroppedWithArgument = new(StringComparer.Ordinal)
    {
        "color", "textcolor", "colorbox", "label", "hspace", "vspace", "phantom", "hphantom", "vphantom", "require", "cline",
        "stackrel", "overset", "underset", "href",
    };

    /// <summary>Letters and symbols that stand alone.</summary>
    private static readonly Dictionary<string, string> Symbols = Table("""
        alpha α  beta β  gamma γ  delta δ  epsilon ϵ  varepsilon ε  zeta ζ  eta η  theta θ  vartheta ϑ  iota ι  kappa κ
        lambda λ  mu μ  nu ν  xi ξ  omicron ο  pi π  varpi ϖ  rho ρ  varrho ϱ  sigma σ  varsigma ς  tau τ  upsilon υ
        phi ϕ  varphi φ  chi χ  psi ψ  omega ω  Gamma Γ  Delta Δ  Theta Θ  Lambda Λ  Xi Ξ  Pi Π  Sigma Σ  Upsilon Υ
        Phi Φ  Psi Ψ  Omega Ω  Vert ‖  lVert ‖  rVert ‖  lbrace {  rbrace }  lbrack [  rbrack ]  dagger †  dag †
        ddagger ‡  hbar ħ  hslash ħ  ell ℓ  partial ∂  nabla ∇  infty ∞  emptyset ∅  varnothing ∅  sum Σ  prod Π
        coprod ∐  int ∫  iint ∬  oint ∮  bigotimes ⊗  bigoplus ⊕  bigcup ⋃  bigcap ⋂  ldots …  dots …  cdots …  vdots ⋮
        ddots ⋱  prime ′  angle ∠  triangle △  square □  Box □  checkmark ✓  spadesuit ♠  clubsuit ♣  heartsuit ♥
        diamondsuit ♦  blacktriangleright ▸  aleph ℵ  Re ℜ  Im ℑ  forall ∀  exists ∃  nexists ∄  neg ¬  lnot ¬  top ⊤
        bot ⊥  backslash \
        """);

    /// <summary>Operators, relations and arrows.</summary>
    private static readonly Dictionary<string, string> Operators = Table("""
        otimes ⊗  oplus ⊕  ominus ⊖  odot ⊙  oslash ⊘  cdot ·  times ×  div ÷  ast *  star ⋆  circ ∘  bullet •  pm ±
        mp ∓  to →  rightarrow →  leftarrow ←  gets ←  Rightarrow ⇒  Leftarrow ⇐  leftrightarrow ↔  Leftrightarrow ⇔
        longrightarrow ⟶  longleftarrow ⟵  Longrightarrow ⟹  Longleftarrow ⟸  mapsto ↦  longmapsto ⟼  implies ⟹
        impliedby ⟸  iff ⟺  uparrow ↑  downarrow ↓  hookrightarrow ↪  rightleftharpoons ⇌  leq ≤  le ≤  leqslant ≤
        geq ≥  ge ≥  geqslant ≥  neq ≠  ne ≠  approx ≈  sim ∼  simeq ≃  cong ≅  equiv ≡  propto ∝  ll ≪  gg ≫
        lesssim ≲  gtrsim ≳  prec ≺  succ ≻  preceq ⪯  succeq ⪰  in ∈  notin ∉  ni ∋  subset ⊂  subseteq ⊆  supset ⊃
        supseteq ⊇  cup ∪  cap ∩  setminus ∖  land ∧  lor ∨  wedge ∧  vee ∨  nmid ∤  parallel ∥  perp ⊥  models ⊨
        vdash ⊢  lt <  gt >  colon :  coloneqq ≔  triangleq ≜  doteq ≐  mid |
        """);

    /// <summary>A table written as blank-separated pairs of a command and what it reads as.</summary>
    private static Dictionary<string, string> Table(string pairs)
    {
        var words = pairs.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var k = 0; k + 1 < words.Length; k += 2)
            table[words[k]] = words[k + 1];
        return table;
    }
}
