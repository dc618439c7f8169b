using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Recommender.Data;
using Recommender.Serving;

namespace Recommender.Service;

/// <summary>Cookie sign-in for people.</summary>
public static class AuthApi
{
    public sealed record SignInRequest(string? Login, string? Password);

    public sealed record Me(long Id, string Login, string DisplayName, string Role);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("Sign-in");
        group.MapPost("/sign-in", SignIn).AllowAnonymous().RequireRateLimiting(ApiServiceExtensions.SignInLimit)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithName("SignIn")
            .WithSummary("Sign in with login and password")
            .WithDescription("Sets the session cookie the /api/me and /api/admin routes need. A few attempts per client address per minute, and a few failures per account from one address per quarter hour; past either, 429 with Retry-After.");
        group.MapPost("/sign-out", (Delegate)SignOut).RequireAuthorization(ApiServiceExtensions.PersonPolicy)
            .WithName("SignOut")
            .WithSummary("Sign out")
            .WithDescription("Ends this session in the database as well as in the browser, so a copy of the cookie stops working too.");
        group.MapGet("/me", (ClaimsPrincipal user) => TypedResults.Ok(new Me(user.UserId(), user.Identity!.Name!, user.FindFirstValue(AccountClaims.DisplayName) ?? "", user.FindFirstValue(ClaimTypes.Role) ?? "user")))
            .RequireAuthorization(ApiServiceExtensions.PersonPolicy)
            .WithName("GetSignedInPerson")
            .WithSummary("Who is signed in")
            .WithDescription("The signed-in person's id, login, display name and role.");
        return app;
    }

    private static async Task<Results<Ok<Me>, ValidationProblem, ProblemHttpResult>> SignIn(SignInRequest request, AccountStore accounts, HttpContext http, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Login) || request.Login.Length > AccountStore.MaxLoginLength)
            errors["login"] = [$"is required, at most {AccountStore.MaxLoginLength} characters"];
        if (string.IsNullOrEmpty(request.Password))
            errors["password"] = ["is required"];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var outcome = await accounts.SignInAsync(request.Login!.Trim(), request.Password!, SignInRateLimit.Client(http), ct);
        if (outcome.LockedFor is { } wait)
        {
            var seconds = SignInRateLimit.RetryAfterSeconds(wait);
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed sign-ins for this account from here",
                detail: $"After {AccountStore.MaxFailedSignIns} failed sign-ins this account cannot sign in from your address for a while; try again in {SignInRateLimit.Describe(wait)} "
                    + "(Retry-After says the seconds). Sign-ins from other addresses are not affected. Whoever runs the service can set a new password with `recommender users create`, which also lifts the wait.");
        }
        // Said plainly: the route-level 401 text (send a key, or sign in) would send someone who just tried to sign in in circles.
        // Which of the two was wrong is not said, so the answer does not tell a guesser whether the login exists.
        if (outcome.Account is not { } account)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The login or password is not right",
                detail: $"Check both and try again. After {AccountStore.MaxFailedSignIns} failed sign-ins for an account from one address, that address waits "
                    + $"{AccountStore.LockDuration.TotalMinutes:0} minutes for that account.");
        }
        await PersonSessions.SignInAsync(http, account, ct);
        return TypedResults.Ok(new Me(account.Id, account.Login, account.DisplayName, account.Role));
    }

    private static async Task<NoContent> SignOut(HttpContext http, CancellationToken ct)
    {
        await PersonSessions.SignOutAsync(http, ct);
        return TypedResults.NoContent();
    }
}
