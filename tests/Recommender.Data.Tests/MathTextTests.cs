using Recommender.Data.Import;

namespace Recommender.Data.Tests;

/// <summary>Formulas in Stack Exchange titles and summaries read as text; prose, money and shell stay as written. No database.</summary>
public sealed class MathTextTests
{
    [Theory]
    [InlineData(@"$\lvert \psi\rangle = \alpha\lvert 0\rangle + \beta\lvert 1\rangle$", "|ψ⟩ = α|0⟩ + β|1⟩")]
    [InlineData(@"the amplification operator $\mathbf Q$ over $|\Psi_i\rangle$", "the amplification operator Q over |Ψᵢ⟩")]
    [InlineData(@"$$\frac{1}{\sqrt{2}}$$", "1/√2")]
    [InlineData(@"$\frac{|0\rangle + |1\rangle}{\sqrt{2}}$", "(|0⟩ + |1⟩)/√2")]
    [InlineData(@"$\sqrt{1-p}$ and $\sqrt 2$", "√(1-p) and √2")]
    [InlineData(@"What is the $\left| 22\right>$ state?", "What is the |22⟩ state?")]
    [InlineData(@"$\vert 0 \rangle \langle 0 \vert + \vert 1 \rangle \langle 1 \vert$", "|0⟩ ⟨0| + |1⟩ ⟨1|")]
    [InlineData(@"$\mathbb{C^2}\otimes\mathbb{C^2}$", "ℂ²⊗ℂ²")]
    [InlineData(@"$\mathbb{R}$, $\mathbb{Z}$, $\mathbb N$", "ℝ, ℤ, ℕ")]
    [InlineData(@"$U^\dagger U = I$, $\rho \to \rho'$, $a \cdot b \times c$", "U† U = I, ρ → ρ', a · b × c")]
    [InlineData(@"$x \leq y \geq z \neq w \approx \infty$", "x ≤ y ≥ z ≠ w ≈ ∞")]
    [InlineData(@"$\sum_i \prod_j x \in S \pm \partial \hbar, \ldots$", "Σᵢ Πⱼ x ∈ S ± ∂ ħ, …")]
    [InlineData(@"$\text{Tr}(\rho)$, $\operatorname{CNOT}$, $\mathcal{H}$, $\mathrm{d}x$", "Tr(ρ), CNOT, H, dx")]
    public void ToPlainText_formulas_read_as_unicode_text(string tex, string expected) =>
        Assert.Equal(expected, MathText.ToPlainText(tex));

    [Theory]
    [InlineData(@"$2^n$", "2ⁿ")]
    [InlineData(@"$x^{10}$", "x¹⁰")]
    [InlineData(@"$\lambda^{-1}$", "λ⁻¹")]
    [InlineData(@"$\Psi_0$", "Ψ₀")]
    [InlineData(@"$|0\rangle^{\otimes n}$", "|0⟩⊗ⁿ")]
    [InlineData(@"$e^{-iHt}$", "e^(-iHt)")]
    [InlineData(@"$R_{zz}$", "R_zz")]
    [InlineData(@"$\mathbb{C}^{2^n\times 2^n}$", "ℂ^(2ⁿ×2ⁿ)")]
    [InlineData(@"$a^{r/2} =-1 \mod N$", "a^(r/2) =-1 mod N")]
    public void ToPlainText_scripts_are_raised_or_lowered_where_unicode_can(string tex, string expected) =>
        Assert.Equal(expected, MathText.ToPlainText(tex));

    [Theory]
    [InlineData(@"$\begin{pmatrix} a & b \\ c & d \end{pmatrix}$", "[a, b; c, d]")]
    [InlineData(@"$\begin{pmatrix}1\\0\end{pmatrix}$", "[1; 0]")]
    [InlineData(@"$\left(\begin{array}{cc} 1 & 0 \\ 0 & -1 \end{array}\right)$", "(1, 0; 0, -1)")]
    [InlineData(@"$\begin{pmatrix}1 && 0 \\ 0 && 1\end{pmatrix}$", "[1, 0; 0, 1]")]
    [InlineData(@"defined as: \begin{equation} x \geq 1 \end{equation} However", "defined as: x ≥ 1 However")]
    [InlineData(@"$\begin{aligned} a &= b \\ c &= d \end{aligned}$", "a = b; c = d")]
    public void ToPlainText_matrices_and_aligned_equations_read_row_by_row(string tex, string expected) =>
        Assert.Equal(expected, MathText.ToPlainText(tex));

    [Fact]
    public void ToPlainText_definitions_leave_nothing_and_their_macros_expand()
    {
        Assert.Equal("A circuit: with a resistor",
            MathText.ToPlainText(@"A circuit: $\def\place#1#2#3{\smash{\rlap{\hskip{#1pt}\raise{#2pt}{#3}}}}$ with a resistor"));
        Assert.Equal("I'm not sure. The state |0⟩ is",
            MathText.ToPlainText(@"$\newcommand{\ket}[1]{\left|#1\right\rangle}$I'm not sure. The state $\ket{0}$ is"));
        Assert.Equal("a resistor", MathText.ToPlainText(@"$\def\place#1#2#3{\smash{#3}} \place{-275}{70}{\text{a resistor}}$"));
    }

    [Theory]
    [InlineData(@"$\foo x$", "foo x")]
    [InlineData(@"$\left. x \right|$", "x|")]
    [InlineData(@"$a\,b\;c\!d\quad e\qquad f$", "abcd e f")]
    [InlineData(@"costs \$5", "costs $5")]
    [InlineData(@"$50\%$ of the cases", "50% of the cases")]
    [InlineData(@"near zero $(0~\mathrm{K}~\text{or}~-273.15~{}^{\circ}\mathrm{C})$", "near zero (0 K or -273.15 °C)")]
    [InlineData(@"superpositions,$$x = 1$$essentially", "superpositions, x = 1 essentially")]
    [InlineData(@"\(x^2\) and \[y_1\]", "x² and y₁")]
    [InlineData(@"$\lvert \underline{x} \rangle$", "|x̲⟩")]
    public void ToPlainText_other_commands_spacing_and_delimiters(string tex, string expected) =>
        Assert.Equal(expected, MathText.ToPlainText(tex));

    [Theory]
    [InlineData("It costs $5 and $10 to send.")]
    [InlineData("Has it really changed since 1 ADA = $0.10 until now? Will ADA ever reach $1000.")]
    [InlineData("Say Peter pays Paul $10 ADA. A pool is selected to process that transaction.")]
    [InlineData("Between $20,000 and $30,000 a year")]
    [InlineData("cardano-cli transaction build-raw \\ --fee $fee \\ --tx-in $txhash#$txix \\ --tx-out $address+$output \\ --out-file matx.raw")]
    [InlineData("--node-config $BASE_CONFIG --node-socket $SOCKET")]
    [InlineData("Error Building the Raw Transaction: $output variable")]
    [InlineData("pubKeyHash $ walletPubKey $ Wallet 2")]
    public void ToPlainText_money_and_shell_variables_are_not_formulas(string prose) =>
        Assert.Equal(prose, MathText.ToPlainText(prose));

    [Theory]
    [InlineData("Plain text, with (brackets), 100% sure & no formulas.")]
    [InlineData("Is script\\bin_path.sh missing?")]
    [InlineData("If the key is in \\AppData\\Roaming\\Daedalus\\Secrets-1.0, what protects it?")]
    [InlineData("Uncaught 'Compiler error: 0\\nundefined'")]
    [InlineData("")]
    public void ToPlainText_plain_text_passes_through_unchanged(string text) =>
        Assert.Equal(text, MathText.ToPlainText(text));

    [Theory]
    [InlineData("$")]
    [InlineData("$$")]
    [InlineData("$$$")]
    [InlineData("\\")]
    [InlineData("$\\$")]
    [InlineData("$\\frac{1}{$")]
    [InlineData("$\\frac$")]
    [InlineData("${{{{x$")]
    [InlineData("$}}}x$")]
    [InlineData("$x^$")]
    [InlineData("$x_{$")]
    [InlineData("$\\sqrt[$")]
    [InlineData("$\\left$")]
    [InlineData("$\\begin{pmatrix}1 & 2$")]
    [InlineData("\\begin{align x")]
    [InlineData("\\begin{align} x")]
    [InlineData("$\\end{pmatrix}$")]
    [InlineData("$\\def$")]
    [InlineData("$\\def\\a$")]
    [InlineData("$\\newcommand{$")]
    [InlineData("$\\newcommand\\x[9]{#1#9}\\x$")]
    [InlineData("$\\def\\a{\\a}\\a$")]
    [InlineData("$\\def\\a{\\a\\a}\\a$")]
    [InlineData("$\\def\\a#1{\\a{#1#1}}\\a{x}$")]
    [InlineData("\\(")]
    [InlineData("\\[x")]
    [InlineData("$\\mathrm\\mathrm\\mathrm$")]
    [InlineData("$\\hskip$ $\\\\[$")]
    public void ToPlainText_malformed_input_never_throws(string tex)
    {
        var plain = MathText.ToPlainText(tex);

        Assert.NotNull(plain);
        Assert.True(plain.Length <= 100_000);
    }

    [Fact]
    public void ToPlainText_deep_nesting_never_exhausts_the_stack()
    {
        var braces = "$" + new string('{', 100_000) + "x" + new string('}', 100_000) + "$";
        var commands = "$" + string.Concat(Enumerable.Repeat(@"\mathrm", 50_000)) + "{x}$";
        var scripts = "$" + string.Concat(Enumerable.Repeat("x^", 50_000)) + "$";

        Assert.Equal("x", MathText.ToPlainText(braces));
        Assert.NotNull(MathText.ToPlainText(commands));
        Assert.NotNull(MathText.ToPlainText(scripts));
    }

    [Fact]
    public void FromHtml_writes_out_formulas_in_prose_but_not_in_code_and_counts_the_source()
    {
        var signals = ContentSignals.FromHtml("<p>Let $\\alpha$ be $x^2$.</p><pre><code>echo $HOME_DIR and $x_1$</code></pre>");

        Assert.Equal("Let α be x².\necho $HOME_DIR and $x_1$", signals.Text);
        // Counted as written, so writing formulas out changes no level: "\alpha" and "x^2" are 9 formula characters.
        Assert.Equal(9 + "echo$HOME_DIRand$x_1$".Length, signals.TechnicalChars);
        Assert.Equal("Let$\\alpha$be$x^2$.echo$HOME_DIRand$x_1$".Length, signals.Chars);
    }
}
