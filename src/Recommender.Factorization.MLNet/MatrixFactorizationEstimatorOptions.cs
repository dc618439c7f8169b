namespace Recommender.Factorization.MLNet;

/// <summary>
/// Settings of <see cref="MatrixFactorizationEstimator"/>, named as ML.NET's <c>MatrixFactorizationTrainer.Options</c>.
/// Training settings and their defaults are those of <see cref="MatrixFactorizationOptions"/> (which says where a
/// meaning differs from ML.NET's, e.g. <see cref="Alpha"/>).
/// </summary>
public sealed class MatrixFactorizationEstimatorOptions
{
    private static readonly MatrixFactorizationOptions Defaults = new();

    /// <summary>Key column of the matrix's column index (the user, in ML.NET's samples). Required.</summary>
    public string MatrixColumnIndexColumnName { get; set; } = "";

    /// <summary>Key column of the matrix's row index (the item, in ML.NET's samples). Required.</summary>
    public string MatrixRowIndexColumnName { get; set; } = "";

    /// <summary>Single column with the rating (or implicit strength). Default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    public int ApproximationRank { get; set; } = Defaults.ApproximationRank;

    public int NumberOfIterations { get; set; } = Defaults.NumberOfIterations;

    public double Lambda { get; set; } = Defaults.Lambda;

    public double LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>Not in ML.NET: the per-epoch SGD step decay (see <see cref="MatrixFactorizationOptions.LearningRateDecay"/>).</summary>
    public double LearningRateDecay { get; set; } = Defaults.LearningRateDecay;

    public double Alpha { get; set; } = Defaults.Alpha;

    public double C { get; set; } = Defaults.C;

    public LossFunction LossFunction { get; set; } = Defaults.LossFunction;

    public bool NonNegative { get; set; }

    /// <summary>Null: one thread per processor.</summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>Not in ML.NET (its trainer takes the context's seed): seed of the initial factors and the shuffle.</summary>
    public int Seed { get; set; } = Defaults.Seed;

    internal MatrixFactorizationOptions ToTrainerOptions() => new()
    {
        ApproximationRank = ApproximationRank,
        NumberOfIterations = NumberOfIterations,
        Lambda = Lambda,
        LearningRate = LearningRate,
        LearningRateDecay = LearningRateDecay,
        Alpha = Alpha,
        C = C,
        LossFunction = LossFunction,
        NonNegative = NonNegative,
        NumberOfThreads = NumberOfThreads,
        Seed = Seed,
    };
}
