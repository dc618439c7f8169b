namespace Recommender.Factorization;

/// <summary>What the factorisation optimises; picks the solver.</summary>
public enum LossFunction
{
    /// <summary>Explicit ratings: squared error on observed cells, solved by parallel SGD on a block grid (LIBMF's FPSGD).</summary>
    SquareLossRegression = 0,

    /// <summary>Implicit feedback: weighted squared error over every cell, solved by weighted ALS with conjugate-gradient row updates (Hu, Koren, Volinsky 2008).</summary>
    SquareLossOneClass = 1,
}

/// <summary>
/// Training settings. Names and meanings follow ML.NET's <c>MatrixFactorizationTrainer.Options</c> so that
/// anyone who knows ML.NET or LIBMF can read them; where our meaning differs it is said here.
/// </summary>
public sealed class MatrixFactorizationOptions
{
    /// <summary>Length of each user and item vector. Default 32 (ML.NET: 8, too small to separate tastes on real catalogs).</summary>
    public int ApproximationRank { get; set; } = 32;

    /// <summary>Passes over the data (SGD epochs or ALS sweeps), at most <see cref="MaxIterations"/>. Default 20 (as ML.NET).</summary>
    public int NumberOfIterations { get; set; } = 20;

    /// <summary>The most passes a run may make; models here converge in tens.</summary>
    public const int MaxIterations = 1000;

    /// <summary>
    /// L2 regularisation of factors (biases get a tenth of it). Default 0.05. For ratings it is applied per update as in LIBMF
    /// (so it scales with a row's number of ratings); for one-class ALS it is the ridge term added to YᵀY.
    /// ML.NET's default is 0.1.
    /// </summary>
    public double Lambda { get; set; } = 0.05;

    /// <summary>
    /// Frequency-scaled (weighted-λ) regularisation: a row with n observed entries is penalised by λ·(1 + n) in all, so
    /// the penalty grows with the data term it balances (Zhou et al. 2008). One-class ALS otherwise adds λ to every row;
    /// SGD otherwise applies λ per update (λ·n in all), and with this option λ·(1 + 1/n) per update, which adds the
    /// extra λ a rarely seen row needs. Default false, so models trained before it keep their meaning.
    /// </summary>
    public bool FrequencyScaledRegularization { get; set; }

    /// <summary>
    /// Initial SGD step, adapted per row by AdaGrad as in LIBMF and multiplied by <see cref="LearningRateDecay"/> after
    /// every epoch. Default 0.1 (as ML.NET). Biases take ten times this step. Unused by ALS.
    /// </summary>
    public double LearningRate { get; set; } = 0.1;

    /// <summary>
    /// SGD: the step of epoch t is <see cref="LearningRate"/>·decay^(t−1). Default 0.85: the steps sum to a finite total,
    /// so more epochs converge instead of overfitting (synth-1M, k=64, λ=0.05: test RMSE 0.7895 at 20 epochs and
    /// 0.7995 at 40 without decay). 1 turns the decay off. Unused by ALS.
    /// </summary>
    public double LearningRateDecay { get; set; } = 0.85;

    /// <summary>
    /// One-class only: confidence of an observed cell is <c>1 + Alpha·value</c>, unobserved cells have confidence 1
    /// (Hu et al.). Default 5 (best NDCG@10 on synth-1M among 1–20 with binary positives). ML.NET uses Alpha as the
    /// weight of negative cells instead (default 0.0001); the ratio is what matters, and 1/0.0001 is far too strong for ALS.
    /// </summary>
    public double Alpha { get; set; } = 5;

    /// <summary>One-class only: the preference assigned to unobserved cells (observed cells have preference 1). Default 0.000001 (as ML.NET).</summary>
    public double C { get; set; } = 0.000001;

    /// <summary>Which loss to minimise, and hence which solver runs. Default <see cref="LossFunction.SquareLossRegression"/>.</summary>
    public LossFunction LossFunction { get; set; } = LossFunction.SquareLossRegression;

    /// <summary>Keep every factor ≥ 0 (projected updates). Default false. Biases stay unconstrained.</summary>
    public bool NonNegative { get; set; }

    /// <summary>Worker threads. Default null: one per processor. With 1 thread and a fixed <see cref="Seed"/> training is deterministic.</summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>Seed for the initial factors, the index shuffle and the block order. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>One-class only: conjugate-gradient steps per row and sweep. Default 2: on synth-1M it reaches the same NDCG@10 as the <c>implicit</c> library's 3, in three quarters of the time.</summary>
    public int ConjugateGradientSteps { get; set; } = 2;

    /// <summary>A copy, so a trained model's record of its settings cannot be changed through the caller's object.</summary>
    public MatrixFactorizationOptions Clone() => (MatrixFactorizationOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> or <see cref="ArgumentOutOfRangeException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (ApproximationRank is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(ApproximationRank), ApproximationRank, "ApproximationRank must be between 1 and 4096.");
        // A run holds the database's training lock throughout: a typo of a few zeros would block every other training for hours.
        if (NumberOfIterations is < 0 or > MaxIterations)
            throw new ArgumentOutOfRangeException(nameof(NumberOfIterations), NumberOfIterations, $"NumberOfIterations must be between 0 and {MaxIterations}.");
        RequireFinite(Lambda, nameof(Lambda), allowZero: true);
        RequireFinite(LearningRate, nameof(LearningRate), allowZero: false);
        RequireFinite(Alpha, nameof(Alpha), allowZero: true);
        if (!(LearningRateDecay is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(LearningRateDecay), LearningRateDecay, "LearningRateDecay must be greater than 0 and at most 1.");
        if (!double.IsFinite(C))
            throw new ArgumentOutOfRangeException(nameof(C), C, "C must be a finite number.");
        if (!Enum.IsDefined(LossFunction))
            throw new ArgumentOutOfRangeException(nameof(LossFunction), LossFunction, "Unknown LossFunction.");
        if (NumberOfThreads is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(NumberOfThreads), NumberOfThreads, "NumberOfThreads must be between 1 and 1024 (or null for one per processor).");
        if (ConjugateGradientSteps is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(ConjugateGradientSteps), ConjugateGradientSteps, "ConjugateGradientSteps must be between 1 and 1000.");
    }

    internal int EffectiveThreads => NumberOfThreads ?? Environment.ProcessorCount;

    private static void RequireFinite(double value, string name, bool allowZero)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0 || (!allowZero && value == 0))
            throw new ArgumentOutOfRangeException(name, value, allowZero ? $"{name} must be a finite number ≥ 0." : $"{name} must be a finite number > 0.");
    }
}
