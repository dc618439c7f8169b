using Dapper;
using Npgsql;

namespace Recommender.Data;

/// <summary>
/// Least privilege in the database, the same on the local cluster (<c>up</c>, tests) and under Docker Compose: an
/// owner role that holds the schema and runs migrations, and a runtime role for the REST service and the web app that
/// reads and writes rows and nothing more. The audit trail (served lists, privacy budget spends, settings history) is
/// append-only for the runtime role: it may add rows, never change or delete them. A person's rows still go when
/// their account is deleted, because the foreign keys' cascades run with the table owner's rights.
/// </summary>
public static class DatabaseRoles
{
    /// <summary>Owns the application database's schema and runs its migrations; cannot log in by itself.</summary>
    public const string Owner = "recommender_owner";

    /// <summary>What the services connect as: rows in the application's tables, and nothing more.</summary>
    public const string Runtime = "recommender_app";

    /// <summary>Environment variable from which <c>db migrate --create-roles</c> reads the runtime role's password.</summary>
    public const string RuntimePasswordVariable = "RECOMMENDER_APP_PASSWORD";

    /// <summary>Tables the runtime role may only read and add to.</summary>
    public static IReadOnlyList<string> AppendOnly { get; } = ["served_lists", "privacy_budget_spends", "settings_history"];

    /// <summary>
    /// <see cref="EnsureAsync(NpgsqlConnection, string, CancellationToken)"/> on its own unpooled connection, as the login
    /// of <paramref name="superuserConnectionString"/> itself (its startup options are dropped: the owner role they may
    /// name may not exist yet).
    /// </summary>
    public static async Task EnsureAsync(string superuserConnectionString, string runtimePassword, CancellationToken ct = default)
    {
        await using var superuser = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuserConnectionString) { Options = null, Pooling = false }.ConnectionString);
        await superuser.OpenAsync(ct);
        await EnsureAsync(superuser, runtimePassword, ct);
    }

    /// <summary>
    /// Creates both roles if missing, sets the runtime role's password, hands the database, its schema and every table
    /// in it to the owner, lets the connecting user act as the owner, and applies <see cref="GrantRuntimeRightsAsync"/>.
    /// Idempotent. <paramref name="superuser"/> is open on the application database as a superuser.
    /// </summary>
    public static async Task EnsureAsync(NpgsqlConnection superuser, string runtimePassword, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(runtimePassword))
            throw new ArgumentException("The runtime role needs a password.", nameof(runtimePassword));
        // ALTER ROLE takes no parameters: the password travels as a setting and is quoted by format() on the server.
        await superuser.ExecuteAsync(new CommandDefinition("select set_config('recommender.runtime_password', @runtimePassword, false)", new { runtimePassword }, cancellationToken: ct));
        await superuser.ExecuteAsync(new CommandDefinition($$"""
            do $$ begin
                if not exists (select from pg_roles where rolname = '{{Owner}}') then create role {{Owner}} nologin; end if;
                if not exists (select from pg_roles where rolname = '{{Runtime}}') then create role {{Runtime}} login; end if;
                execute format('alter role {{Runtime}} password %L', current_setting('recommender.runtime_password'));
                execute format('alter database %I owner to {{Owner}}', current_database());
                execute format('revoke all on database %I from public', current_database());
                execute format('grant connect, temporary on database %I to {{Runtime}}', current_database());
            end $$;
            select set_config('recommender.runtime_password', '', false);
            grant {{Owner}} to current_user;
            alter schema public owner to {{Owner}};
            do $$ declare t record; begin
                for t in select tablename from pg_tables where schemaname = 'public' and tableowner <> '{{Owner}}' loop
                    execute format('alter table public.%I owner to {{Owner}}', t.tablename);
                end loop;
                for t in select sequencename from pg_sequences where schemaname = 'public' and sequenceowner <> '{{Owner}}' loop
                    execute format('alter sequence public.%I owner to {{Owner}}', t.sequencename);
                end loop;
            end $$;
            revoke create on schema public from public;
            grant usage on schema public to {{Runtime}};
            """, cancellationToken: ct));
        await GrantRuntimeRightsAsync(superuser, ct);
    }

    /// <summary>
    /// The runtime role's rights on every table and sequence there is now: read and write rows, except that
    /// <see cref="AppendOnly"/> tables take no update or delete and the migration journal is read-only. Run after every
    /// migration (tables are new or changed) and by <see cref="EnsureAsync(NpgsqlConnection, string, CancellationToken)"/>; nothing happens where there is no runtime
    /// role, or where the connection does not own the tables (a database that someone else set up).
    /// </summary>
    public static Task GrantRuntimeRightsAsync(NpgsqlConnection conn, CancellationToken ct = default, NpgsqlTransaction? transaction = null) =>
        conn.ExecuteAsync(new CommandDefinition($$"""
            do $$ declare t text; begin
                if not exists (select from pg_roles where rolname = '{{Runtime}}') then return; end if;
                grant select, insert, update, delete on all tables in schema public to {{Runtime}};
                grant usage, select on all sequences in schema public to {{Runtime}};
                foreach t in array array['{{string.Join("','", AppendOnly)}}'] loop
                    if to_regclass('public.' || t) is not null then
                        execute format('revoke update, delete, truncate on public.%I from {{Runtime}}', t);
                    end if;
                end loop;
                if to_regclass('public.schema_migrations') is not null then
                    revoke insert, update, delete, truncate on schema_migrations from {{Runtime}};
                end if;
            exception when insufficient_privilege then
                raise notice 'not the owner of the tables: the rights of {{Runtime}} are left as they are';
            end $$;
            """, transaction: transaction, cancellationToken: ct));

    /// <summary><paramref name="connectionString"/> with every statement run as <see cref="Owner"/> (a superuser login acting as the owner).</summary>
    public static string AsOwner(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Options = $"-c role={Owner}" }.ConnectionString;
}
