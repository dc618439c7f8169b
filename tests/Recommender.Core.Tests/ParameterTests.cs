using Recommender.Core.Objectives;

namespace Recommender.Core.Tests;

public sealed class ParameterTests
{
    [Fact]
    public void Hash_sameValuesDifferentOrder_isEqual()
    {
        var a = ObjectiveParameters.Empty.With("lambda", 0.5).With("topics", ["a", "b"]);
        var b = ObjectiveParameters.Empty.With("topics", ["a", "b"]).With("lambda", 0.5);

        Assert.Equal(a.Hash(), b.Hash());
        Assert.Equal(64, a.Hash().Length);
    }

    [Fact]
    public void Hash_differentValue_differs()
    {
        Assert.NotEqual(ObjectiveParameters.Empty.With("lambda", 0.5).Hash(), ObjectiveParameters.Empty.With("lambda", 0.6).Hash());
    }

    [Fact]
    public void FromJson_canonicalJson_roundTrips()
    {
        var parsed = ObjectiveParameters.FromJson("""{ "topics": ["film-noir"], "lambda": 1, "strict": true, "mode": "x" }""");

        Assert.Equal("""{"lambda":1,"mode":"x","strict":true,"topics":["film-noir"]}""", parsed.ToCanonicalJson());
        Assert.Equal(parsed.Hash(), ObjectiveParameters.FromJson(parsed.ToCanonicalJson()).Hash());
    }

    [Fact]
    public void Validate_unknownField_namesIt()
    {
        var errors = ((IObjective)new DiversityObjective()).Validate(ObjectiveParameters.Empty.With("lamda", 0.5));

        Assert.Equal("lamda", Assert.Single(errors).Field);
    }

    [Fact]
    public void Validate_wrongType_namesField()
    {
        var errors = ((IObjective)new LearningObjective()).Validate(ObjectiveParameters.FromJson("""{"topics":"physics","target_success":"high"}"""));

        Assert.Equal(["target_success", "topics"], errors.Select(e => e.Field).Order());
    }

    [Fact]
    public void Validate_fractionForInteger_namesField()
    {
        var errors = ((IObjective)new DiversityObjective()).Validate(ObjectiveParameters.Empty.With("pool_size", 50.5));

        Assert.Equal("pool_size", Assert.Single(errors).Field);
    }

    [Fact]
    public void Validate_textOutsideAllowedValues_namesField()
    {
        var schema = new ParameterSchema([new ParameterSpec("mode", ParameterType.Text, "a", "Mode.", AllowedValues: ["a", "b"])]);

        Assert.Equal("mode", Assert.Single(schema.Validate(ObjectiveParameters.Empty.With("mode", "c"))).Field);
        Assert.Empty(schema.Validate(ObjectiveParameters.Empty.With("mode", "b")));
    }

    [Fact]
    public void Resolve_missingValues_takesDefaults()
    {
        var resolved = new DiversityObjective().Schema.Resolve(ObjectiveParameters.Empty.With("lambda", 0.5));

        Assert.Equal(0.5, resolved.GetNumber("lambda"));
        Assert.Equal(0.3, resolved.GetNumber("breadth"));
    }

    [Fact]
    public void ToJson_schema_listsEveryFieldAFormNeeds()
    {
        var json = new DiversityObjective().Schema.ToJson();

        var lambda = json.Single(n => (string?)n!["name"] == "lambda")!;
        Assert.Equal("number", (string?)lambda["type"]);
        Assert.Equal(0.7, (double?)lambda["default"]);
        Assert.Equal(0.0, (double?)lambda["min"]);
        Assert.Equal(1.0, (double?)lambda["max"]);
        Assert.False(string.IsNullOrEmpty((string?)lambda["description"]));
    }
}
