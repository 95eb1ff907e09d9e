using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace WebApi.Operations;

/// <summary>
/// The <c>Operations</c> configuration section: the operator API key that protects the operations endpoints and the
/// dashboard. Required (the start fails without it); appsettings.Development.json has a development key.
/// </summary>
public sealed class OperationsOptions
{
    public const string SectionName = "Operations";

    /// <summary>The development key of appsettings.Development.json: refused outside Development.</summary>
    public const string DevelopmentKey = "dev-operator-key-change-me";

    /// <summary>The shortest key accepted.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>The key operators send (<c>Operations:ApiKey</c>).</summary>
    public string? ApiKey { get; set; }
}

/// <summary>
/// Authenticates an operator by the API key: the <c>X-Api-Key</c> header (scripts, curl), or HTTP Basic with the key as
/// the password (browsers: the dashboard's 401 makes them ask for it). Constant-time comparison; no key, no identity.
/// </summary>
public sealed class OperatorApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, IOptions<OperationsOptions> operations)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "OperatorApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string PolicyName = "operators";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[HeaderName].ToString();
        if (presented.Length == 0 && AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var authorization)
            && string.Equals(authorization.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) && authorization.Parameter is { } parameter)
        {
            presented = BasicPassword(parameter) ?? string.Empty;
        }

        if (presented.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var expected = Encoding.UTF8.GetBytes(operations.Value.ApiKey!);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), expected))
        {
            return Task.FromResult(AuthenticateResult.Fail("The operator API key is wrong."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(ClaimTypes.Role, "operator")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"Streams operations\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }

    private static string? BasicPassword(string parameter)
    {
        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : credentials[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>Wires the operator API key: options validated at start, the scheme and the <c>operators</c> policy.</summary>
public static class OperatorApiKeyExtensions
{
    public static IServiceCollection AddOperatorApiKey(this IServiceCollection services, IHostEnvironment environment)
    {
        services.AddOptions<OperationsOptions>()
            .BindConfiguration(OperationsOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ApiKey),
                $"{OperationsOptions.SectionName}:ApiKey is not configured: the operations endpoints and the dashboard need an operator API key (appsettings.Development.json has one for Development; elsewhere set it, e.g. the Operations__ApiKey environment variable).")
            .Validate(o => o.ApiKey is null || o.ApiKey.Length >= OperationsOptions.MinimumKeyLength,
                $"{OperationsOptions.SectionName}:ApiKey is shorter than {OperationsOptions.MinimumKeyLength} characters.")
            .Validate(o => environment.IsDevelopment() || o.ApiKey != OperationsOptions.DevelopmentKey,
                $"{OperationsOptions.SectionName}:ApiKey is the development key of appsettings.Development.json, refused outside Development: configure a secret one.")
            .ValidateOnStart();
        services.AddAuthentication(OperatorApiKeyHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, OperatorApiKeyHandler>(OperatorApiKeyHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(OperatorApiKeyHandler.PolicyName, policy => policy.AddAuthenticationSchemes(OperatorApiKeyHandler.SchemeName).RequireRole("operator"));
        return services;
    }
}
