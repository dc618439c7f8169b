using Microsoft.ML;
using Microsoft.ML.Data;

namespace Recommender.Factorization.MLNet;

/// <summary>
/// Scores (column key, row key) pairs with a trained <see cref="MatrixFactorizationModel"/>, adding a Single
/// <see cref="ScoreColumnName"/> column. A missing key (0) or one beyond the trained range scores NaN, as in ML.NET.
/// Stateless after construction, so one instance serves any number of threads.
/// </summary>
public sealed class MatrixFactorizationTransformer : ITransformer
{
    /// <summary>Name of the column the transformer adds.</summary>
    public const string ScoreColumnName = "Score";

    private readonly MLContext _context;

    internal MatrixFactorizationTransformer(MLContext context, MatrixFactorizationModel model, string columnIndexColumnName, string rowIndexColumnName)
    {
        _context = context;
        Model = model;
        MatrixColumnIndexColumnName = columnIndexColumnName;
        MatrixRowIndexColumnName = rowIndexColumnName;
    }

    /// <summary>The trained model; its user index is the column key − 1, its item index the row key − 1.</summary>
    public MatrixFactorizationModel Model { get; }

    public string MatrixColumnIndexColumnName { get; }

    public string MatrixRowIndexColumnName { get; }

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(ScoreColumnName, NumberDataViewType.Single);
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new ScoredDataView(this, input, GetOutputSchema(input.Schema));
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new RowMapper(this, inputSchema, GetOutputSchema(inputSchema));
    }

    /// <summary>
    /// Writes the model in the project's binary format together with the two key column names.
    /// <c>mlContext.Model.Save</c> cannot store this transformer: ML.NET keeps the writer of <see cref="ModelSaveContext"/>
    /// and the registration of loadable classes internal to its own assemblies, so outside components have no way in.
    /// </summary>
    public void SaveTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(MatrixColumnIndexColumnName);
            writer.Write(MatrixRowIndexColumnName);
        }
        Model.Save(stream);
    }

    /// <summary>Reads a transformer written by <see cref="SaveTo"/>.</summary>
    /// <exception cref="InvalidDataException">The stream is truncated, corrupted or not such a file.</exception>
    public static MatrixFactorizationTransformer LoadFrom(MLContext context, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(stream);
        string columnName, rowName;
        try
        {
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            columnName = reader.ReadString();
            rowName = reader.ReadString();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The transformer file is truncated.", e);
        }
        return new MatrixFactorizationTransformer(context, MatrixFactorizationModel.Load(stream), columnName, rowName);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "ML.NET's model format is closed to components outside its own assemblies; save this transformer with SaveTo and read it with LoadFrom.");

    internal float Score(uint columnKey, uint rowKey)
    {
        if (columnKey == 0 || rowKey == 0 || columnKey > Model.UserCount || rowKey > Model.ItemCount)
            return float.NaN;
        return Model.Score((int)columnKey - 1, (int)rowKey - 1);
    }

    private (DataViewSchema.Column User, DataViewSchema.Column Item) KeyColumns(DataViewSchema schema)
    {
        var user = schema.GetColumnOrNull(MatrixColumnIndexColumnName)
            ?? throw new ArgumentException($"The input has no key column '{MatrixColumnIndexColumnName}'.", nameof(schema));
        var item = schema.GetColumnOrNull(MatrixRowIndexColumnName)
            ?? throw new ArgumentException($"The input has no key column '{MatrixRowIndexColumnName}'.", nameof(schema));
        if (user.Type.RawType != typeof(uint) || item.Type.RawType != typeof(uint))
            throw new ArgumentException("Both key columns must be UInt32 keys (apply MapValueToKey first).", nameof(schema));
        return (user, item);
    }

    // Input columns needed to produce the requested output columns: the passed-through ones, plus both keys for Score.
    private IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema input, IEnumerable<DataViewSchema.Column> requested)
    {
        var needed = new List<DataViewSchema.Column>();
        foreach (var column in requested)
        {
            if (column.Index < input.Count)
            {
                needed.Add(input[column.Index]);
            }
            else
            {
                var (user, item) = KeyColumns(input);
                needed.Add(user);
                needed.Add(item);
            }
        }
        return needed.DistinctBy(c => c.Index).ToArray();
    }

    private static ValueGetter<TValue> ScoreGetter<TValue>(MatrixFactorizationTransformer parent, DataViewRow row)
    {
        if (typeof(TValue) != typeof(float))
            throw new InvalidOperationException($"Column '{ScoreColumnName}' is Single, not {typeof(TValue).Name}.");
        var (user, item) = parent.KeyColumns(row.Schema);
        var getUser = row.GetGetter<uint>(user);
        var getItem = row.GetGetter<uint>(item);
        uint u = 0, i = 0;
        ValueGetter<float> getter = (ref float value) =>
        {
            getUser(ref u);
            getItem(ref i);
            value = parent.Score(u, i);
        };
        return (ValueGetter<TValue>)(Delegate)getter;
    }

    private sealed class ScoredDataView(MatrixFactorizationTransformer parent, IDataView input, DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => input.CanShuffle;

        public DataViewSchema Schema => schema;

        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            new Cursor(parent, input.GetRowCursor(parent.Dependencies(input.Schema, columnsNeeded), rand), schema);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [.. input.GetRowCursorSet(parent.Dependencies(input.Schema, columnsNeeded), n, rand).Select(c => new Cursor(parent, c, schema))];
    }

    private sealed class Cursor(MatrixFactorizationTransformer parent, DataViewRowCursor input, DataViewSchema schema) : DataViewRowCursor
    {
        public override DataViewSchema Schema => schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool MoveNext() => input.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < input.Schema.Count ? input.IsColumnActive(input.Schema[column.Index]) : true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            column.Index < input.Schema.Count ? input.GetGetter<TValue>(input.Schema[column.Index]) : ScoreGetter<TValue>(parent, input);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                input.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class RowMapper(MatrixFactorizationTransformer parent, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
    {
        public DataViewSchema InputSchema => inputSchema;

        public DataViewSchema OutputSchema => outputSchema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
            parent.Dependencies(inputSchema, dependingColumns);

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new Row(parent, input, outputSchema);
    }

    private sealed class Row(MatrixFactorizationTransformer parent, DataViewRow input, DataViewSchema schema) : DataViewRow
    {
        public override DataViewSchema Schema => schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < input.Schema.Count ? input.IsColumnActive(input.Schema[column.Index]) : true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            column.Index < input.Schema.Count ? input.GetGetter<TValue>(input.Schema[column.Index]) : ScoreGetter<TValue>(parent, input);
    }
}
