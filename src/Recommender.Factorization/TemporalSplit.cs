namespace Recommender.Factorization;

/// <summary>Train and test sets that share the train set's id maps (test rows for unseen users or items are dropped).</summary>
/// <param name="Train">The earliest rows; its maps hold only users and items that appear in it.</param>
/// <param name="Test">The latest rows whose user and item both appear in <paramref name="Train"/>.</param>
/// <param name="DroppedTestRows">Test rows dropped for an unseen user or item.</param>
public sealed record RatingSplit(TrainingData Train, TrainingData Test, int DroppedTestRows);

/// <summary>The benchmark split: a global cut in time, so the model never sees the future it is tested on.</summary>
public static class TemporalSplit
{
    /// <summary>
    /// Sorts all rows by (timestamp, user id, item id); the first <paramref name="trainFraction"/> (rounded up) train,
    /// the rest test; test rows whose user or item never appears in train are dropped.
    /// </summary>
    /// <remarks>
    /// To keep peak memory at one copy of the data, the table is sorted in place and its arrays become the train set's
    /// (re-indexed to train-only maps); <paramref name="table"/> is marked consumed and must not be used afterwards.
    /// </remarks>
    public static RatingSplit Split(RatingTable table, double trainFraction = 0.9)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.IsConsumed)
            throw new InvalidOperationException("This rating table was already split; load it again.");
        if (!(trainFraction is > 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "trainFraction must be between 0 and 1.");
        table.IsConsumed = true;
        var n = table.Count;
        SortByTime(table);

        // The test share is rounded down (and the train share up): 1,000,209 rows give 900,189 train, as the data README states.
        // The epsilon keeps 100,000 × (1 − 0.9) from landing just under 10,000.
        var trainCount = n - (int)Math.Floor(n * (1 - trainFraction) + 1e-9);
        var users = table.UserIndices;
        var items = table.ItemIndices;
        // Re-index in order of first appearance in train, so the model has no rows for users or items it never saw.
        var userMap = new int[table.Users.Count];
        var itemMap = new int[table.Items.Count];
        Array.Fill(userMap, -1);
        Array.Fill(itemMap, -1);
        var trainUsers = new IdMap();
        var trainItems = new IdMap();
        for (var j = 0; j < trainCount; j++)
        {
            ref var u = ref userMap[users[j]];
            if (u < 0)
                u = trainUsers.GetOrAdd(table.Users.IdAt(users[j]));
            ref var i = ref itemMap[items[j]];
            if (i < 0)
                i = trainItems.GetOrAdd(table.Items.IdAt(items[j]));
            users[j] = u;
            items[j] = i;
        }

        var testUsers = new List<int>();
        var testItems = new List<int>();
        var testValues = new List<float>();
        for (var j = trainCount; j < n; j++)
        {
            int u = userMap[users[j]], i = itemMap[items[j]];
            if (u < 0 || i < 0)
                continue;
            testUsers.Add(u);
            testItems.Add(i);
            testValues.Add(table.Values[j]);
        }
        var train = new TrainingData(trainUsers, trainItems, users, items, table.Values, trainCount);
        var test = new TrainingData(trainUsers, trainItems, [.. testUsers], [.. testItems], [.. testValues]);
        return new RatingSplit(train, test, n - trainCount - testUsers.Count);
    }

    /// <summary>Only rows with value ≥ <paramref name="threshold"/>, as implicit positives of value 1, with the same id maps.</summary>
    public static TrainingData Positives(TrainingData data, float threshold)
    {
        ArgumentNullException.ThrowIfNull(data);
        var count = 0;
        for (var j = 0; j < data.Count; j++)
        {
            if (data.Values[j] >= threshold)
                count++;
        }
        var u = new int[count];
        var i = new int[count];
        var v = new float[count];
        var k = 0;
        for (var j = 0; j < data.Count; j++)
        {
            if (data.Values[j] < threshold)
                continue;
            u[k] = data.UserIndices[j];
            i[k] = data.ItemIndices[j];
            v[k++] = 1;
        }
        return new TrainingData(data.Users, data.Items, u, i, v);
    }

    private static void SortByTime(RatingTable table)
    {
        var n = table.Count;
        var t = table.Timestamps;
        var users = table.UserIndices;
        var items = table.ItemIndices;
        int Compare(int a, int b)
        {
            var c = t[a].CompareTo(t[b]);
            if (c != 0)
                return c;
            c = table.Users.IdAt(users[a]).CompareTo(table.Users.IdAt(users[b]));
            return c != 0 ? c : table.Items.IdAt(items[a]).CompareTo(table.Items.IdAt(items[b]));
        }

        // Exports are usually already in time order; checking is one pass and saves a permutation the size of the data.
        var sorted = true;
        for (var j = 1; j < n && sorted; j++)
            sorted = Compare(j - 1, j) <= 0;
        if (sorted)
            return;

        var order = new int[n];
        for (var j = 0; j < n; j++)
            order[j] = j;
        // Sort by timestamp with a primitive key sort, then settle ties (same second) with the full comparison.
        var keys = t.AsSpan(0, n).ToArray();
        Array.Sort(keys, order);
        for (var start = 0; start < n;)
        {
            var end = start + 1;
            while (end < n && keys[end] == keys[start])
                end++;
            if (end - start > 1)
                order.AsSpan(start, end - start).Sort(Compare);
            start = end;
        }
        Permute(order, users, items, table.Values, t);
    }

    /// <summary>Applies <paramref name="order"/> (row j gets old row order[j]) in place by following cycles; destroys order.</summary>
    private static void Permute(int[] order, int[] users, int[] items, float[] values, long[] timestamps)
    {
        for (var start = 0; start < order.Length; start++)
        {
            if (order[start] < 0 || order[start] == start)
                continue;
            var (u, i, v, ts) = (users[start], items[start], values[start], timestamps[start]);
            var j = start;
            while (true)
            {
                var from = order[j];
                order[j] = -1;
                if (from == start)
                {
                    (users[j], items[j], values[j], timestamps[j]) = (u, i, v, ts);
                    break;
                }
                (users[j], items[j], values[j], timestamps[j]) = (users[from], items[from], values[from], timestamps[from]);
                j = from;
            }
        }
    }
}
