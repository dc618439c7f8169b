using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Recommender.Service.Tests;

/// <summary>One operation of the OpenAPI document: method, path template, parameters and the JSON body's schema.</summary>
public sealed record ApiOperation(HttpMethod Method, string Path, IReadOnlyList<ApiParameter> Parameters, JsonNode? BodySchema)
{
    public string Name => $"{Method} {Path}";

    /// <summary>Operations whose real path ids must never be hit: they delete or overwrite what is stored.</summary>
    public bool Destructive => Method != HttpMethod.Get;

    public static List<ApiOperation> ReadAll(JsonNode document)
    {
        var operations = new List<ApiOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var parameters = (operation!["parameters"]?.AsArray() ?? [])
                    .Select(p => new ApiParameter(p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(), p["schema"] ?? new JsonObject())).ToList();
                var body = operation["requestBody"]?["content"]?["application/json"]?["schema"];
                operations.Add(new ApiOperation(HttpMethod.Parse(method), path, parameters, body));
            }
        }
        return operations;
    }
}

public sealed record ApiParameter(string Name, string In, JsonNode Schema);

/// <summary>One generated request, ready to send: the malformation it carries and its raw parts.</summary>
public sealed record HostileRequest(ApiOperation Operation, string Kind, string Target, byte[]? Body, string? ContentType, bool Chunked = false);

/// <summary>Real values from the running service, so that a request malformed in one place is well-formed elsewhere and reaches deep into its handler.</summary>
public sealed record Vocabulary(long[] ItemIds, string[] ItemExternalIds, string[] Topics, string[] Objectives, string[] Kinds, long[] UserIds);

/// <summary>
/// Generates malformed requests from the OpenAPI document with a seeded random source: a plausible request built from
/// the operation's schemas, then broken in one way (wrong type, huge or negative number, missing or extra field, very
/// long or hostile string, invalid UTF-8, oversized or deeply nested body, wrong content type, bad path or query value).
/// Path ids of operations that change data are always ones that do not exist, so the run deletes or overwrites nothing
/// it did not create.
/// </summary>
public sealed class HostileRequests(JsonNode document, Vocabulary words, int seed, int maxBodyBytes)
{
    private readonly Random _random = new(seed);
    private int _unique;

    // Values that are wrong for most fields in some way: other JSON types, numbers past every integer and float range,
    // characters PostgreSQL cannot store, lone surrogates, control characters, dates at and past the calendar's ends.
    private static readonly string[] HostileValues =
    [
        "true", "false", "[]", "{}", "\"\"", "\" \"", "null", "[1,2,3]", "{\"a\":1}", "[[[[]]]]", "\"abc\"",
        "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud800\"", "\"x\\udc00y\"", "\"\\u202e\\u0301\\ufeff\"", "\"\\u001b[31m\"", "\"\\r\\nSet-Cookie: x=y\"",
        "\"' or 1=1 --\"", "\"../../etc/passwd\"", "\"<script>alert(1)</script>\"", "\"%00%FF\"", "\"\\\\\"",
        "\"0001-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59Z\"", "\"9999-12-31T23:59:59-14:00\"",
        "\"2024-13-45T25:61:61Z\"", "\"1969-12-31T23:59:59Z\"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e999\"", "\"-1\"",
    ];

    private static readonly string[] HostileNumbers =
    [
        "0", "-1", "-0.0", "1.5", "-2147483649", "2147483648", "-2147483648", "2147483647", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "1e308", "-1e308", "1e309", "1e-400", "123456789012345678901234567890", "4.9e-324",
        "1E+2", "0.30000000000000004", "-99999999999",
    ];

    // Already percent-encoded: they go into the URL as they are.
    private static readonly string[] HostileUrlValues =
    [
        "", "abc", "-1", "0", "1.5", "-2147483649", "2147483648", "9223372036854775808", "99999999999999999999", "1e308", "NaN", "Infinity",
        "%00", "a%00b", "%FF%FE", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "%E2%80%AE", "%0D%0ASet-Cookie:%20x=y", "%2F..%2F..%2Fetc%2Fpasswd",
        "0001-01-01T00%3A00%3A00Z", "9999-12-31T23%3A59%3A59Z", "9999-12-31T23%3A59%3A59-14%3A00", "0001-01-01T00%3A00%3A00%2B14%3A00", "not-a-date",
        "%27%20or%201%3D1%20--", "%3Cscript%3E", "00000000-0000-0000-0000-000000000000", "not-a-guid", "%20", "%25", "%",
    ];

    private static readonly string[] InvalidUtf8 = ["\xFF", "\xC3\x28", "\xED\xA0\x80", "\xF8\x88\x80\x80\x80", "\x80", "\xC0\xAF", "\xF4\x90\x80\x80", "\xE2\x82"];

    public HostileRequest Next(ApiOperation op, string kind) => kind switch
    {
        "bad path parameter" => new HostileRequest(op, kind, Target(op, badPath: true), Body(op), Json),
        "bad query parameter" => new HostileRequest(op, kind, Target(op, badQuery: true), Body(op), Json),
        "invalid UTF-8 in path or query" => new HostileRequest(op, kind, Target(op, invalidUtf8: true), Body(op), Json),
        "extra query parameters" => new HostileRequest(op, kind, Target(op, extraQuery: true), Body(op), Json),
        "invalid UTF-8 in body" => new HostileRequest(op, kind, Target(op), InsertInvalidUtf8(Body(op) ?? "{\"a\":\"b\"}"u8.ToArray()), Json),
        "broken JSON" => new HostileRequest(op, kind, Target(op), BrokenJson(Body(op)), Json),
        "deep JSON" => new HostileRequest(op, kind, Target(op), DeepJson(op), Json),
        "wrong content type" => new HostileRequest(op, kind, Target(op), Body(op) ?? "{}"u8.ToArray(), Pick(WrongContentTypes)),
        "oversized body" => new HostileRequest(op, kind, Target(op), Oversized(op), Json, Chunked: _random.Next(2) == 0),
        _ => new HostileRequest(op, kind, Target(op), Encoding.UTF8.GetBytes(MutatedBody(op, kind)), Json),
    };

    /// <summary>The kinds of malformation that make sense for <paramref name="op"/>.</summary>
    public IReadOnlyList<string> KindsFor(ApiOperation op)
    {
        var kinds = new List<string> { "invalid UTF-8 in path or query", "extra query parameters", "wrong content type", "oversized body", "broken JSON", "deep JSON" };
        if (op.Parameters.Any(p => p.In == "path"))
            kinds.Add("bad path parameter");
        if (op.Parameters.Any(p => p.In == "query"))
            kinds.Add("bad query parameter");
        if (op.BodySchema is not null)
            kinds.AddRange(["wrong type", "huge or negative number", "missing field", "extra field", "long string", "hostile string", "invalid UTF-8 in body"]);
        return kinds;
    }

    public T Pick<T>(IReadOnlyList<T> values) => values[_random.Next(values.Count)];

    private const string Json = "application/json";

    private static readonly string[] WrongContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
        "application/json; charset=\"", "*/*", "a/b/c", "", "application/problem+json", "text/json; charset=latin1", "application/octet-stream",
    ];

    private string Target(ApiOperation op, bool badPath = false, bool badQuery = false, bool invalidUtf8 = false, bool extraQuery = false)
    {
        var path = op.Path;
        foreach (var p in op.Parameters.Where(p => p.In == "path"))
        {
            var value = badPath || (invalidUtf8 && _random.Next(2) == 0) ? (invalidUtf8 ? PercentInvalidUtf8() : BadPathValue()) : PathValue(op, p);
            path = path.Replace("{" + p.Name + "}", value, StringComparison.Ordinal);
        }
        var query = new List<string>();
        foreach (var p in op.Parameters.Where(p => p.In == "query"))
        {
            if (badQuery && _random.Next(3) > 0)
                query.Add($"{p.Name}={(_random.Next(8) == 0 ? new string('9', _random.Next(20, 5000)) : Pick(HostileUrlValues))}");
            else if (invalidUtf8 && _random.Next(2) == 0)
                query.Add($"{p.Name}={PercentInvalidUtf8()}");
            else if (_random.Next(2) == 0)
                query.Add($"{p.Name}={Uri.EscapeDataString(PlainValue(p.Name, p.Schema, forPath: false))}");
        }
        if (badQuery && query.Count > 0 && _random.Next(4) == 0)
            query.Add(query[0]); // the same parameter twice
        if (extraQuery || (invalidUtf8 && query.Count == 0))
        {
            for (var i = _random.Next(1, 4); i > 0; i--)
                query.Add(_random.Next(4) == 0 ? PercentInvalidUtf8() : $"{Pick(["x", "__proto__", "k", "limit", "%00", "a[b]", "admin"])}={Pick(HostileUrlValues)}");
        }
        return query.Count == 0 ? path : $"{path}?{string.Join('&', query)}";
    }

    private string PercentInvalidUtf8() =>
        "a" + string.Concat(Encoding.Latin1.GetBytes(Pick(InvalidUtf8)).Select(b => $"%{b:X2}")) + "b";

    private string BadPathValue() => _random.Next(10) == 0 ? new string('x', _random.Next(300, 5000)) : Pick(HostileUrlValues) is { Length: > 0 } v ? v : "%20";

    private string PathValue(ApiOperation op, ApiParameter p)
    {
        // Operations that change data only ever see ids that do not exist.
        if (op.Destructive)
            return IsInteger(p.Schema) ? (1_000_000_000_000 + _random.Next(1_000_000)).ToString(CultureInfo.InvariantCulture) : $"fuzz-{Interlocked.Increment(ref _unique)}";
        return Uri.EscapeDataString(PlainValue(p.Name, p.Schema, forPath: true));
    }

    private static bool IsInteger(JsonNode schema) => Types(schema).Contains("integer");

    private static string[] Types(JsonNode schema) => schema["type"] switch
    {
        JsonArray a => [.. a.Select(t => t!.GetValue<string>())],
        JsonValue v => [v.GetValue<string>()],
        _ => [],
    };

    /// <summary>A well-formed value for a field, from the service's own vocabulary where the name says what it is.</summary>
    private string PlainValue(string name, JsonNode schema, bool forPath)
    {
        var format = schema["format"]?.GetValue<string>();
        if (IsInteger(schema))
            return name.Contains("user", StringComparison.OrdinalIgnoreCase) ? Pick(words.UserIds).ToString(CultureInfo.InvariantCulture)
                : name.Contains("item", StringComparison.OrdinalIgnoreCase) ? Pick(words.ItemIds).ToString(CultureInfo.InvariantCulture)
                : _random.Next(1, 20).ToString(CultureInfo.InvariantCulture);
        if (Types(schema).Contains("number"))
            return (_random.Next(0, 11) / 2.0).ToString(CultureInfo.InvariantCulture);
        return format switch
        {
            "date-time" => DateTimeOffset.UtcNow.AddHours(-_random.Next(1, 500)).ToString("O", CultureInfo.InvariantCulture),
            "uuid" => Guid.NewGuid().ToString(),
            _ => name switch
            {
                "itemId" => Pick(words.ItemExternalIds),
                "userId" or "sourceId" => forPath ? $"p{_random.Next(60)}" : $"fuzz-user-{_random.Next(50)}",
                "kind" => Pick(words.Kinds),
                "objectiveId" => Pick(words.Objectives),
                "topic" or "fromTopic" or "toTopic" => Pick(words.Topics),
                "role" => Pick(["user", "admin"]),
                "idempotencyKey" => Guid.NewGuid().ToString("N"),
                "url" => "https://example.org/" + _random.Next(1000),
                "login" => "alice",
                _ => "fuzz " + _random.Next(1000),
            },
        };
    }

    private JsonNode? PlainJson(string name, JsonNode schema, int depth)
    {
        if (schema["$ref"] is { } reference)
            return PlainJson(name, Resolve(reference.GetValue<string>()), depth);
        if (schema["oneOf"] is JsonArray oneOf)
            return PlainJson(name, oneOf.FirstOrDefault(s => !Types(s!).SequenceEqual(["null"]))!, depth);
        var types = Types(schema);
        if (types.Contains("array"))
        {
            var items = schema["items"] ?? new JsonObject();
            var array = new JsonArray();
            for (var i = _random.Next(1, 4); i > 0; i--)
                array.Add(PlainJson(name, items, depth + 1));
            return array;
        }
        if (types.Contains("object") || schema["properties"] is not null)
        {
            var obj = new JsonObject();
            if (name == "parameters")
                return _random.Next(2) == 0 ? obj : new JsonObject { [Pick(["lambda", "topics", "credibility_floor", "half_life_days"])] = _random.Next(2) == 0 ? 0.5 : new JsonArray(Pick(words.Topics)) };
            foreach (var (property, propertySchema) in schema["properties"]?.AsObject() ?? [])
                obj[property] = PlainJson(property, propertySchema!, depth + 1);
            return obj;
        }
        if (types.Contains("integer"))
            return long.Parse(PlainValue(name, schema, false), CultureInfo.InvariantCulture);
        if (types.Contains("number"))
            return double.Parse(PlainValue(name, schema, false), CultureInfo.InvariantCulture);
        if (types.Contains("boolean"))
            return _random.Next(2) == 0;
        return PlainValue(name, schema, false);
    }

    private JsonNode Resolve(string reference) => document["components"]!["schemas"]![reference.Split('/')[^1]]!;

    private byte[]? Body(ApiOperation op) =>
        op.BodySchema is null ? null : Encoding.UTF8.GetBytes(PlainJson("body", op.BodySchema, 0)?.ToJsonString() ?? "null");

    /// <summary>The plausible body with one field (somewhere inside it) replaced, removed or joined by another, as raw JSON text.</summary>
    private string MutatedBody(ApiOperation op, string kind)
    {
        var body = PlainJson("body", op.BodySchema!, 0);
        var objects = new List<JsonObject>();
        Collect(body, objects);
        if (objects.Count == 0)
            return kind == "long string" ? $"\"{LongString()}\"" : Pick(HostileValues);
        var target = Pick(objects);
        var names = target.Select(p => p.Key).ToList();
        const string marker = "\"__hostile_value__\"";
        switch (kind)
        {
            case "missing field":
                foreach (var n in names.Where(_ => _random.Next(2) == 0).DefaultIfEmpty(names.Count > 0 ? Pick(names) : ""))
                    target.Remove(n);
                return body!.ToJsonString();
            case "extra field":
                target[Pick(["extra", "userId", "role", "isAdmin", "__proto__", "id", "$type", "Kind", "ITEMID"])] = "surprise";
                return body!.ToJsonString();
            default:
                if (names.Count == 0)
                    return body!.ToJsonString();
                target[Pick(names)] = "__hostile_value__";
                var value = kind switch
                {
                    "wrong type" => Pick(["true", "false", "[]", "{}", "\"abc\"", "[1,2,3]", "{\"a\":1}", "12", "\"12\"", "null"]),
                    "huge or negative number" => Pick(HostileNumbers),
                    "long string" => $"\"{LongString()}\"",
                    _ => Pick(HostileValues),
                };
                return body!.ToJsonString().Replace(marker, value, StringComparison.Ordinal);
        }
    }

    private static void Collect(JsonNode? node, List<JsonObject> objects)
    {
        if (node is JsonObject o)
        {
            objects.Add(o);
            foreach (var (_, child) in o)
                Collect(child, objects);
        }
        else if (node is JsonArray a)
        {
            foreach (var child in a)
                Collect(child, objects);
        }
    }

    private string LongString()
    {
        var length = Pick([1_001, 5_000, 70_000, 300_000]);
        return _random.Next(3) switch
        {
            0 => new string('a', length),
            1 => string.Concat(Enumerable.Repeat("é€𝄞", length / 4)),
            _ => string.Concat(Enumerable.Repeat("\\u0041", length / 6)),
        };
    }

    private byte[] InsertInvalidUtf8(byte[] json)
    {
        var quotes = json.Select((b, i) => (b, i)).Where(p => p.b == (byte)'"').Select(p => p.i).ToList();
        var at = quotes.Count > 0 ? Pick(quotes) + 1 : _random.Next(json.Length + 1);
        return [.. json[..at], .. Encoding.Latin1.GetBytes(Pick(InvalidUtf8)), .. json[at..]];
    }

    private byte[] BrokenJson(byte[]? json)
    {
        var text = json is null ? "{\"a\":[1,2]}" : Encoding.UTF8.GetString(json);
        return Encoding.UTF8.GetBytes(_random.Next(9) switch
        {
            0 => text[..Math.Max(0, _random.Next(text.Length))],
            1 => text + Pick(["}", "]", ",", "garbage", "{}", "\0"]),
            2 => "",
            3 => text.Replace('"', '\''),
            4 => "\uFEFF\uFEFF" + text,
            5 => "/* comment */" + text,
            6 => Pick(["NaN", "Infinity", "undefined", "nul", "tru", "01", "-", "\"unterminated", "{\"a\" 1}", "{,}", "[1,,2]"]),
            7 => text.Length > 2 ? text.Insert(1, "\"a\":1,\"a\":2,") : text,
            _ => Pick(["null", "[]", "{}", "1", "\"\"", "[null]", "[{}]", "[[]]", "true"]),
        });
    }

    private byte[] DeepJson(ApiOperation op)
    {
        var depth = Pick([65, 200, 5_000, 100_000]);
        var closed = _random.Next(2) == 0;
        var (open, close) = _random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + (closed ? string.Concat(Enumerable.Repeat(close, depth)) : "");
        if (op.BodySchema is null || _random.Next(2) == 0)
            return Encoding.UTF8.GetBytes(nested);
        // Inside a field of an otherwise plausible body: the structure is right until that field.
        return Encoding.UTF8.GetBytes(MutatedBody(op, "wrong type").Replace("true", nested, StringComparison.Ordinal)
            .Replace("[1,2,3]", nested, StringComparison.Ordinal));
    }

    private byte[] Oversized(ApiOperation op)
    {
        var size = maxBodyBytes + _random.Next(1, 2 * maxBodyBytes);
        var body = Body(op);
        // A valid-looking JSON array (or a string) just past the limit: the size alone must be the reason for refusal.
        var sb = new StringBuilder(size + 1024);
        if (body is not null && body[0] == (byte)'[')
        {
            var element = Encoding.UTF8.GetString(body[1..^1]).Split("},{")[0].TrimEnd('}') + "}";
            sb.Append('[');
            while (sb.Length < size)
                sb.Append(element).Append(',');
            sb.Append(element).Append(']');
        }
        else
        {
            sb.Append("{\"title\":\"").Append('a', size).Append("\"}");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
