using System.Diagnostics;

namespace Recommender.Factorization;

/// <summary>
/// Trains a <see cref="MatrixFactorizationModel"/>: parallel block-grid SGD for ratings, conjugate-gradient ALS for
/// implicit feedback. Option names follow ML.NET's trainer of the same name.
/// </summary>
public sealed class MatrixFactorizationTrainer
{
    private readonly MatrixFactorizationOptions _options;

    /// <summary>Validates and copies <paramref name="options"/> (defaults if null).</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the exception names it.</exception>
    public MatrixFactorizationTrainer(MatrixFactorizationOptions? options = null)
    {
        _options = (options ?? new MatrixFactorizationOptions()).Clone();
        _options.Validate();
    }

    /// <summary>A copy of the settings this trainer uses.</summary>
    public MatrixFactorizationOptions Options => _options.Clone();

    /// <summary>
    /// Trains on <paramref name="data"/>. For ratings the arrays in <paramref name="data"/> are reordered in place
    /// (see <see cref="TrainingData"/>). Reports after every iteration and stops with
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <exception cref="ArgumentException">The data is empty or holds an index outside its id maps or a non-finite value.</exception>
    public MatrixFactorizationModel Fit(TrainingData data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        var clock = Stopwatch.StartNew();
        return _options.LossFunction == LossFunction.SquareLossOneClass
            ? new AlsSolver(_options, data, progress, clock, cancellationToken).Run()
            : new SgdSolver(_options, data, progress, clock, cancellationToken).Run();
    }
}
