using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Recommender.Service;

/// <summary>
/// Says in the OpenAPI document how each operation authenticates, read from the same authorization metadata the
/// routes enforce: platform scopes take an <c>X-Api-Key</c> header, everything else that is not anonymous the sign-in
/// cookie. Client generators and the API browser (its Authorize button) then send the right credential.
/// </summary>
internal static class OpenApiSecurity
{
    public const string ApiKey = "apiKey";
    public const string Cookie = "cookie";

    private static readonly HashSet<string> PlatformScopes =
        [ApiServiceExtensions.CatalogScope, ApiServiceExtensions.EventsScope, ApiServiceExtensions.FeedsScope];

    public static OpenApiOptions AddSecurity(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKey] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "A platform API key (recommender keys create, or POST /api/admin/api-keys), with the scope the operation names.",
            };
            document.Components.SecuritySchemes[Cookie] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = ApiServiceExtensions.CookieName,
                Description = "The cookie POST /api/auth/sign-in sets.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any())
                return Task.CompletedTask;
            var platform = metadata.OfType<IAuthorizeData>().Any(a => a.Policy is { } policy && PlatformScopes.Contains(policy));
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(platform ? ApiKey : Cookie, context.Document)] = [],
            });
            return Task.CompletedTask;
        });
        return options;
    }
}
