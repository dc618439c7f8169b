using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Recommender.Data;

namespace Recommender.Serving;

/// <summary>
/// A local append-only file of served lists: a feed is answered only once its record is on disk (<c>fsync</c>), and
/// the audit writer moves records from here to PostgreSQL, so a SIGKILL or a power cut loses none, whether or not the
/// database was reachable. One <c>fsync</c> covers every record waiting at that moment (group commit).
/// </summary>
/// <remarks>
/// Layout, under <c>{root}/{database}/</c>: each process holds a slot (<c>slot-N.lock</c>, locked while it lives) and
/// appends to its segments <c>slot-N-{sequence}.spool</c>. Each record is framed as length, CRC-32 and the JSON of the
/// <see cref="AuditRecord"/> as <see cref="AuditSpoolJson"/> writes it. At start a process takes the lowest free slot,
/// and also every other slot that has segments and no living owner; their records are read first (replay). A record
/// whose frame is incomplete or whose checksum fails ends its segment: it was being written when the process died, so
/// its feed was never answered. Replay may repeat records the database already has (killed between the insert and
/// deleting the segment); the writer skips those by request id.
/// </remarks>
public sealed partial class AuditSpool : IAsyncDisposable
{
    private const int HeaderBytes = 8;
    private const int MaxSlots = 256;
    private const int MaxGroup = 1024;

    private readonly string _folder;
    private readonly long _limit;
    private readonly long _segmentBytes;
    private readonly ILogger _logger;
    private readonly List<FileStream> _locks = [];
    private readonly Lazy<Task> _disposal;
    private readonly int _slot;
    private readonly Channel<Append> _appends = Channel.CreateUnbounded<Append>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _committer;
    private readonly object _gate = new();
    // Oldest first: replayed segments of earlier processes, then this process's own; the last may be the one appended to.
    private readonly LinkedList<Segment> _segments = new();
    private TaskCompletionSource _durable = NewSignal();
    private FileStream? _active;
    private Segment? _activeSegment;
    private long _sequence;
    private long _bytes;
    private long _pending;
    private (Segment Segment, long Offset)? _readFrom;


    /// <param name="folder">The spool folder of one database.</param>
    /// <param name="limit">Bytes on disk past which <see cref="AppendAsync"/> refuses.</param>
    /// <param name="segmentBytes">Size at which the process starts a new segment file.</param>
    /// <param name="logger">Where replays, skipped bytes and disk failures are reported.</param>
    public AuditSpool(string folder, long limit, long segmentBytes, ILogger logger)
    {
        _folder = folder;
        _limit = limit;
        _segmentBytes = segmentBytes;
        _logger = logger;
        _disposal = new Lazy<Task>(CloseAsync);
        Directory.CreateDirectory(folder);
        _slot = TakeFreeSlot();
        AdoptOrphanedSlots();
        _committer = Task.Run(CommitLoopAsync);
    }

    /// <summary>Records on disk that the database does not have yet (as far as this process knows).</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Bytes of spool on disk, including records already in the database whose segment is not deleted yet.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The bound on <see cref="Bytes"/>.</summary>
    public long Limit => _limit;

    /// <summary>The folder of this database's spool.</summary>
    public string Folder => _folder;

    /// <summary>The spool folder for one database under <paramref name="root"/>: named by its host, port and name.</summary>
    public static string FolderFor(string root, string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var name = $"{b.Host}_{b.Port}_{b.Database}";
        foreach (var c in Path.GetInvalidFileNameChars().Append(','))
            name = name.Replace(c, '-');
        return Path.Combine(root, name);
    }

    /// <summary>Appends the record and returns once it is on disk.</summary>
    /// <exception cref="AuditBacklogFullException">The spool is at its bound, or the disk refused the write.</exception>
    public async Task AppendAsync(AuditRecord record)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(record, AuditSpoolJson.Default.AuditRecord);
        var frame = new byte[HeaderBytes + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), Crc32.HashToUInt32(payload));
        payload.CopyTo(frame, HeaderBytes);
        if (Interlocked.Add(ref _bytes, frame.Length) > _limit)
        {
            Interlocked.Add(ref _bytes, -frame.Length);
            throw new AuditBacklogFullException();
        }
        var append = new Append(frame, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_appends.Writer.TryWrite(append))
        {
            Interlocked.Add(ref _bytes, -frame.Length);
            throw new AuditBacklogFullException("The service is shutting down; the feed was not served so that no list goes unrecorded.");
        }
        await append.Done.Task;
    }

    /// <summary>Reads up to <paramref name="max"/> durable records from where the last <see cref="Release"/> left off.</summary>
    /// <returns>The position after the last record read, to pass to <see cref="Release"/> once they are stored.</returns>
    public SpoolPosition Read(List<AuditRecord> into, int max)
    {
        lock (_gate)
        {
            var node = _readFrom is { } from ? _segments.Find(from.Segment) : _segments.First;
            var offset = _readFrom?.Offset ?? 0;
            if (node is null)
                return default;
            while (into.Count < max)
            {
                var segment = node.Value;
                if (offset < segment.End)
                {
                    if (ReadFrame(segment, offset) is { } payload)
                    {
                        into.Add(JsonSerializer.Deserialize(payload, AuditSpoolJson.Default.AuditRecord)!);
                        offset += HeaderBytes + payload.Length;
                    }
                    else
                    {
                        _logger.LogError("Audit spool {File} is damaged at offset {Offset}; {Bytes} bytes are skipped", segment.Path, offset, segment.End - offset);
                        offset = segment.End;
                    }
                    continue;
                }
                if (!segment.Sealed || node.Next is null)
                    break;
                node = node.Next;
                offset = 0;
            }
            _readFrom = (node.Value, offset);
            return new SpoolPosition(node.Value, offset);
        }
    }

    // The payload of the frame at offset, or null when the frame is incomplete or its checksum fails.
    private static byte[]? ReadFrame(Segment segment, long offset)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (offset + HeaderBytes > segment.End || RandomAccess.Read(segment.Reader, header, offset) < HeaderBytes)
            return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length <= 0 || offset + HeaderBytes + length > segment.End)
            return null;
        var payload = new byte[length];
        if (RandomAccess.Read(segment.Reader, payload, offset + HeaderBytes) < length ||
            Crc32.HashToUInt32(payload) != BinaryPrimitives.ReadUInt32LittleEndian(header[4..]))
            return null;
        return payload;
    }

    /// <summary>The records read up to <paramref name="position"/> are in the database: their finished segments go.</summary>
    public void Release(SpoolPosition position, int records)
    {
        Interlocked.Add(ref _pending, -records);
        if (position.Segment is null)
            return;
        lock (_gate)
        {
            while (_segments.First is { } first && (!ReferenceEquals(first.Value, position.Segment) || (first.Value.Sealed && position.Offset >= first.Value.End)))
            {
                var done = first.Value;
                _segments.RemoveFirst();
                done.Reader.Dispose();
                File.Delete(done.Path);
                Interlocked.Add(ref _bytes, -done.Length);
                if (ReferenceEquals(done, position.Segment))
                {
                    _readFrom = null;
                    break;
                }
            }
        }
    }

    /// <summary>Completes when there are records that <see cref="Read"/> has not returned yet.</summary>
    public Task WaitForRecordsAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            var node = _readFrom is { } from ? _segments.Find(from.Segment) : _segments.First;
            var offset = _readFrom?.Offset ?? 0;
            var more = node is not null && (offset < node.Value.End || (node.Value.Sealed && node.Next is not null));
            return more ? Task.CompletedTask : _durable.Task.WaitAsync(ct);
        }
    }

    private async Task CommitLoopAsync()
    {
        var group = new List<Append>(MaxGroup);
        while (await _appends.Reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && _appends.Reader.TryRead(out var append))
                group.Add(append);
            try
            {
                foreach (var append in group)
                {
                    if (_active is null || (_active.Length > 0 && _active.Length + append.Frame.Length > _segmentBytes))
                        StartSegment();
                    _active!.Write(append.Frame);
                }
                _active!.Flush(flushToDisk: true);
                lock (_gate)
                {
                    _activeSegment!.End = _active.Length;
                    _activeSegment.Length = _active.Length;
                    Interlocked.Add(ref _pending, group.Count);
                    _durable.TrySetResult();
                    _durable = NewSignal();
                }
                foreach (var append in group)
                    append.Done.TrySetResult();
            }
            catch (IOException e)
            {
                _logger.LogCritical(e, "The audit spool in {Folder} cannot be written; feeds are refused until it can", _folder);
                // What reached the file may or may not be on disk: these feeds are never answered, the reader stops at the
                // last flush, and the next group starts a new segment.
                Interlocked.Add(ref _bytes, -group.Sum(a => (long)a.Frame.Length));
                CloseActive();
                foreach (var append in group)
                    append.Done.TrySetException(new AuditBacklogFullException("The audit log cannot be written to disk; the feed was not served so that no list goes unrecorded."));
            }
            group.Clear();
        }
    }

    private void StartSegment()
    {
        CloseActive();
        var path = Path.Combine(_folder, $"slot-{_slot}-{++_sequence:D10}.spool");
        _active = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
        // The new name must survive a crash too, not only the bytes written under it.
        SyncDirectory(_folder);
        var segment = new Segment(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), sealed_: false);
        lock (_gate)
        {
            _segments.AddLast(segment);
            _activeSegment = segment;
        }
    }

    private void CloseActive()
    {
        lock (_gate)
        {
            if (_activeSegment is { } sealing)
            {
                // Bytes past the last flush were never acknowledged; End stays there, so the reader does not take them.
                sealing.Sealed = true;
                _durable.TrySetResult();
                _durable = NewSignal();
            }
            _activeSegment = null;
        }
        _active?.Dispose();
        _active = null;
    }

    private int TakeFreeSlot()
    {
        for (var slot = 0; slot < MaxSlots; slot++)
        {
            if (TryLock(slot) is not { } held)
                continue;
            _locks.Add(held);
            // Skip past the sequence numbers an earlier holder of the slot used; its segments are replayed.
            _sequence = Directory.EnumerateFiles(_folder, $"slot-{slot}-*.spool").Select(SequenceOf).DefaultIfEmpty(0).Max();
            AddExisting(slot);
            return slot;
        }
        throw new IOException($"All {MaxSlots} audit spool slots in {_folder} are held by running processes.");
    }

    private void AdoptOrphanedSlots()
    {
        var slots = Directory.EnumerateFiles(_folder, "slot-*.spool")
            .Select(f => int.Parse(Path.GetFileName(f).Split('-')[1], System.Globalization.CultureInfo.InvariantCulture))
            .Where(s => s != _slot).Distinct().Order();
        foreach (var slot in slots)
        {
            if (TryLock(slot) is not { } held)
                continue;
            _locks.Add(held);
            AddExisting(slot);
        }
    }

    // Segments of a slot whose owner is gone, oldest first, each read up to its last whole record.
    private void AddExisting(int slot)
    {
        var files = Directory.EnumerateFiles(_folder, $"slot-{slot}-*.spool").OrderBy(SequenceOf).ToList();
        var records = 0L;
        foreach (var path in files)
        {
            var segment = new Segment(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), sealed_: true);
            segment.Length = segment.End = RandomAccess.GetLength(segment.Reader);
            var offset = 0L;
            while (ReadFrame(segment, offset) is { } payload)
            {
                offset += HeaderBytes + payload.Length;
                records++;
            }
            if (offset < segment.End)
            {
                // A write the process did not finish before it died: its feed was never answered.
                _logger.LogWarning("Audit spool {File}: the last {Bytes} bytes are not a whole record and are skipped", path, segment.End - offset);
                segment.End = offset;
            }
            _segments.AddLast(segment);
            Interlocked.Add(ref _bytes, segment.Length);
        }
        Interlocked.Add(ref _pending, records);
        if (records > 0)
            _logger.LogWarning("Audit spool slot {Slot} in {Folder} holds {Records} served lists from a process that stopped before writing them to the database; replaying them",
                slot, _folder, records);
    }

    private FileStream? TryLock(int slot)
    {
        try
        {
            // An exclusive lock (flock) that the system drops when the process dies, however it dies.
            return new FileStream(Path.Combine(_folder, $"slot-{slot}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long SequenceOf(string path) =>
        long.Parse(Path.GetFileNameWithoutExtension(path).Split('-')[2], System.Globalization.CultureInfo.InvariantCulture);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        var fd = Native.Open(path, 0);
        if (fd < 0)
            throw new IOException($"Could not open {path} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Native.Fsync(fd) != 0)
                throw new IOException($"Could not sync {path} (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>
    /// Stops taking records; deletes the segments whose records are all in the database and releases the slots. Runs
    /// once: a second call, even one made while the first is still closing, waits for the first (a host that stops twice
    /// must not dispose the slot locks under the first call's feet).
    /// </summary>
    public ValueTask DisposeAsync() => new(_disposal.Value);

    private async Task CloseAsync()
    {
        _appends.Writer.TryComplete();
        await _committer;
        CloseActive();
        lock (_gate)
        {
            foreach (var segment in _segments)
                segment.Reader.Dispose();
            if (Pending == 0)
            {
                foreach (var segment in _segments)
                    File.Delete(segment.Path);
                _segments.Clear();
            }
        }
        foreach (var held in _locks)
            await held.DisposeAsync();
    }

    private sealed record Append(byte[] Frame, TaskCompletionSource Done);

    private sealed class Segment(string path, Microsoft.Win32.SafeHandles.SafeFileHandle reader, bool sealed_)
    {
        public string Path { get; } = path;
        public Microsoft.Win32.SafeHandles.SafeFileHandle Reader { get; } = reader;
        /// <summary>Where durable records end: the reader never reads past it.</summary>
        public long End { get; set; }
        /// <summary>Bytes on disk, counted against the bound until the file is deleted.</summary>
        public long Length { get; set; }
        /// <summary>No more records will be added.</summary>
        public bool Sealed { get; set; } = sealed_;
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        internal static partial int Close(int fd);
    }
}

/// <summary>
/// A spooled record's JSON: property names as declared and scores at full precision, a score that is not a finite number
/// as <c>"NaN"</c> or <c>"Infinity"</c>, so that a replay stores exactly what the direct path would have. Spool files of
/// running or crashed processes must stay readable across an upgrade: this format does not change without a version mark
/// in the frame.
/// </summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(AuditRecord))]
internal sealed partial class AuditSpoolJson : JsonSerializerContext;

/// <summary>Where reading the spool stopped; opaque to callers.</summary>
public readonly record struct SpoolPosition(object? Segment, long Offset);
