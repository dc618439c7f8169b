using System.CommandLine;
using Recommender.Data;
using Spectre.Console;

namespace Recommender.Cli.Commands;

/// <summary>
/// <c>recommender users create</c>: a sign-in account from the command line, so a deployment (the compose file's CLI
/// image, say) can get its first admin. The password comes on standard input, never as an argument, which any process
/// listing would show.
/// </summary>
internal static class UsersCommand
{
    private static readonly string[] Roles = ["user", "admin"];

    public static Command Create()
    {
        var login = new Option<string>("--login") { Description = "The sign-in name.", Required = true };
        var role = new Option<string>("--role") { Description = "user or admin.", DefaultValueFactory = _ => "user" };
        var name = new Option<string?>("--name") { Description = "Display name (default: the login)." };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the account's id (for scripts)." };
        var create = new Command("create", "Create an account, or reset its password, name and role when the login exists; the password is read from standard input.")
            { login, role, name, quiet };
        create.SetAction(CliApp.Guarded(async (parse, ct) =>
        {
            var wantedLogin = parse.GetValue(login)!.Trim();
            if (wantedLogin.Length is 0 or > 200)
                throw new CliException("--login: 1 to 200 characters");
            var wantedRole = parse.GetValue(role)!;
            if (!Roles.Contains(wantedRole))
                throw new CliException($"--role: '{wantedRole}' is not one of {string.Join(", ", Roles)}");
            var password = Console.IsInputRedirected
                ? await Console.In.ReadLineAsync(ct)
                : await new TextPrompt<string>("password:").Secret().ShowAsync(AnsiConsole.Console, ct);
            if (string.IsNullOrEmpty(password))
                throw new CliException("no password on standard input");
            if (AccountStore.PasswordProblem(password) is { } problem)
                throw new CliException($"password: {problem}; nothing was changed");

            await using var dataSource = await CliContext.OpenDatabaseAsync(parse, ct);
            var account = await new AccountStore(dataSource).UpsertAsync(wantedLogin, parse.GetValue(name) ?? wantedLogin, wantedRole, password, ct);
            if (parse.GetValue(quiet))
                Console.WriteLine(account.Id);
            else
                AnsiConsole.MarkupLineInterpolated($"account {account.Id}: [bold]{account.Login}[/] ({account.Role})");
            return 0;
        }));
        return new Command("users", "Sign-in accounts.") { create };
    }
}
