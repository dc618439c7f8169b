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
    public MatrixFactorizationModel Fit(TrainingData data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(data, null, progress, cancellationToken);

    /// <summary>
    /// As <see cref="Fit(TrainingData, IProgress{TrainingProgress}?, CancellationToken)"/>, and for ratings also measures
    /// RMSE on <paramref name="validation"/> after every epoch (reported in <see cref="TrainingProgress.ValidationRmse"/>)
    /// and stops early once it has not improved for three epochs. <paramref name="validation"/> must use
    /// <paramref name="data"/>'s id maps (as <see cref="TemporalSplit"/>'s test set does). One-class ALS ignores it.
    /// </summary>
    /// <exception cref="ArgumentException">The data is empty, or either set holds an index outside its id maps or a non-finite value.</exception>
    public MatrixFactorizationModel Fit(TrainingData data, TrainingData? validation, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.Validate();
        if (validation is not null)
        {
            if (validation.Users != data.Users || validation.Items != data.Items)
                throw new ArgumentException("The validation set must share the training set's id maps.", nameof(validation));
            validation.Validate(allowEmpty: true);
        }
        var clock = Stopwatch.StartNew();
        return _options.LossFunction == LossFunction.SquareLossOneClass
            ? new AlsSolver(_options, data, progress, clock, cancellationToken).Run()
            : new SgdSolver(_options, data, validation, progress, clock, cancellationToken).Run();
    }
}
