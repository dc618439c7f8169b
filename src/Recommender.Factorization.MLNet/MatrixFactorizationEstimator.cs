using Microsoft.ML;
using Microsoft.ML.Data;

namespace Recommender.Factorization.MLNet;

/// <summary>
/// The project's <see cref="MatrixFactorizationTrainer"/> as an ML.NET estimator: it reads two key columns (as made by
/// <c>MapValueToKey</c>) and a Single label, trains, and returns a transformer that adds a Single <c>Score</c> column.
/// Drop-in for <c>mlContext.Recommendation().Trainers.MatrixFactorization</c> where that package is not wanted.
/// </summary>
public sealed class MatrixFactorizationEstimator : IEstimator<MatrixFactorizationTransformer>
{
    private readonly MLContext _context;
    private readonly MatrixFactorizationEstimatorOptions _options;

    /// <exception cref="ArgumentException">A training setting is out of range; the exception names it.</exception>
    public MatrixFactorizationEstimator(MLContext context, MatrixFactorizationEstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        _context = context;
        _options = options;
        options.ToTrainerOptions().Validate();
    }

    /// <summary>Trains on every row of <paramref name="input"/> whose two keys are present (key 0, "missing", is skipped).</summary>
    /// <exception cref="ArgumentException">A named column is missing or of the wrong type.</exception>
    public MatrixFactorizationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var userColumn = KeyColumn(input.Schema, _options.MatrixColumnIndexColumnName);
        var itemColumn = KeyColumn(input.Schema, _options.MatrixRowIndexColumnName);
        var labelColumn = input.Schema.GetColumnOrNull(_options.LabelColumnName)
            ?? throw new ArgumentException($"The input has no label column '{_options.LabelColumnName}'.", nameof(input));
        if (labelColumn.Type != NumberDataViewType.Single)
            throw new ArgumentException($"Label column '{labelColumn.Name}' must be Single, not {labelColumn.Type}.", nameof(input));

        var users = new List<int>();
        var items = new List<int>();
        var values = new List<float>();
        using (var cursor = input.GetRowCursor([userColumn, itemColumn, labelColumn]))
        {
            var getUser = cursor.GetGetter<uint>(userColumn);
            var getItem = cursor.GetGetter<uint>(itemColumn);
            var getLabel = cursor.GetGetter<float>(labelColumn);
            uint user = 0, item = 0;
            float label = 0;
            while (cursor.MoveNext())
            {
                getUser(ref user);
                getItem(ref item);
                getLabel(ref label);
                if (user == 0 || item == 0 || !float.IsFinite(label))
                    continue;
                users.Add((int)user - 1);
                items.Add((int)item - 1);
                values.Add(label);
            }
        }
        if (values.Count == 0)
            throw new ArgumentException("The input has no rows with both keys present and a finite label.", nameof(input));

        // Dense index = key − 1, so every key value the column can hold has a row (as ML.NET's trainer allocates),
        // and the transformer maps keys without a lookup.
        var data = new TrainingData(
            KeyRange(userColumn), KeyRange(itemColumn), [.. users], [.. items], [.. values]);
        var model = new MatrixFactorizationTrainer(_options.ToTrainerOptions()).Fit(data);
        return new MatrixFactorizationTransformer(_context, model, userColumn.Name, itemColumn.Name);
    }

    /// <summary>The input shape plus a Single <c>Score</c> column; checks the key and label columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        foreach (var name in new[] { _options.MatrixColumnIndexColumnName, _options.MatrixRowIndexColumnName })
        {
            if (!TryFind(inputSchema, name, out var column))
                throw new ArgumentException($"The input has no key column '{name}'.", nameof(inputSchema));
            if (!column.IsKey || column.Kind != SchemaShape.Column.VectorKind.Scalar)
                throw new ArgumentException($"Column '{name}' must be a scalar key (apply MapValueToKey first).", nameof(inputSchema));
        }
        if (!TryFind(inputSchema, _options.LabelColumnName, out var label)
            || label.ItemType != NumberDataViewType.Single || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentException($"The input needs a scalar Single label column '{_options.LabelColumnName}'.", nameof(inputSchema));
        // SchemaShape.Column has no public constructor; a copy of the (scalar Single) label has exactly Score's shape.
        return _context.Transforms.CopyColumns(MatrixFactorizationTransformer.ScoreColumnName, _options.LabelColumnName)
            .GetOutputSchema(inputSchema);
    }

    private static bool TryFind(SchemaShape shape, string name, out SchemaShape.Column column)
    {
        // SchemaShape hides its own look-up from other assemblies; the last column of a name is the visible one.
        column = default;
        var found = false;
        foreach (var candidate in shape)
        {
            if (candidate.Name == name)
            {
                column = candidate;
                found = true;
            }
        }
        return found;
    }

    private static DataViewSchema.Column KeyColumn(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"The input has no key column '{name}'.", nameof(schema));
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint) || key.Count > int.MaxValue)
            throw new ArgumentException($"Column '{name}' must be a UInt32 key (apply MapValueToKey first), not {column.Type}.", nameof(schema));
        return column;
    }

    private static IdMap KeyRange(DataViewSchema.Column column)
    {
        var count = (int)((KeyDataViewType)column.Type).Count;
        var ids = new long[count];
        for (var i = 0; i < count; i++)
            ids[i] = i;
        return IdMap.FromIds(ids);
    }
}
