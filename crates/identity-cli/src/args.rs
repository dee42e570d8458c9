//! The command line: every command, flag and argument of `fbn-identity`, as
//! clap derive definitions, with the parsers of the structured values
//! (`SCOPE/CODE`, `KEY=VALUE`, RFC 3339 datetimes).
//!
//! Nothing here talks to the service: `main` parses a [`Cli`], `settings`
//! turns its [`GlobalArgs`] into a client, and `commands` run the rest.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use finbourne_identity::layers::config::{MAX_RETRIES, MAX_TIMEOUT};
use finbourne_identity::{RoleId, UserSchemaProperty, UserType};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Manage the users of a FINBOURNE domain from a terminal or a script.
///
/// Settings come from the flags, then the FBN_* environment variables, then
/// the secrets file named with --secrets or FBN_SECRETS_PATH, key by key. No
/// other file is read: not even a ./secrets.json, which a cloned repository
/// may bring. Passwords and client secrets are read only from the
/// environment (FBN_PASSWORD, FBN_CLIENT_SECRET) or the secrets file, never
/// from flags.
///
/// Colour only on a terminal (or with CLICOLOR_FORCE=1); NO_COLOR turns it
/// off everywhere. Progress lines only when stderr is a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "fbn-identity",
    version,
    max_term_width = 100,
    after_help = crate::errors::Exit::help()
)]
pub(crate) struct Cli {
    /// Settings that apply to every command.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags accepted before or after any command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Print the service's answer as JSON on stdout (an array for lists,
    /// nothing for commands without an answer), and a failure as one JSON
    /// object on stderr (kind, exit_code, message, status, code,
    /// request_id, retry_after_seconds, ...).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// The secrets.json file to read settings from [env: FBN_SECRETS_PATH].
    /// Only a file named here or by FBN_SECRETS_PATH is read, never
    /// ./secrets.json unnamed; a file others may read or write is read with a
    /// warning (chmod 600 it).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) secrets: Option<PathBuf>,

    /// The service's base URL, e.g. https://acme.lusid.com/identity
    /// [env: FBN_IDENTITY_URL].
    // The doc comment is the `--help` text, where a URL in `<>` would show
    // its brackets.
    #[allow(rustdoc::bare_urls)]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,

    /// The OAuth2 token URL of the password grant [env: FBN_TOKEN_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) token_url: Option<String>,

    /// A personal access token to use as the bearer token. Prefer
    /// FBN_ACCESS_TOKEN or the secrets file: a command line is visible to
    /// other users of the machine and kept in shell history.
    //
    // The ids of --access-token, --username and --client-id are those of the
    // emulator's flags of the same names, so that `emulator` keeps its own
    // (clap does not propagate a global flag to a subcommand that has one
    // with its id).
    #[arg(
        long = "access-token",
        id = "access_tokens",
        global = true,
        value_name = "TOKEN"
    )]
    pub(crate) access_token: Option<String>,

    /// The username of the password grant [env: FBN_USERNAME]; its password
    /// comes from FBN_PASSWORD or the secrets file.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) username: Option<String>,

    /// The client id of the password grant [env: FBN_CLIENT_ID]; its secret
    /// comes from FBN_CLIENT_SECRET or the secrets file.
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) client_id: Option<String>,

    /// The application name sent with every request [env: FBN_APP_NAME].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) app_name: Option<String>,

    /// The correlation id sent with every request [env: FBN_CORRELATION_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) correlation_id: Option<String>,

    /// Allow plain http:// base and token URLs to a host that is not
    /// loopback, such as an emulator reached by a container's name: tokens
    /// and passwords then travel in clear text [env:
    /// FBN_ALLOW_INSECURE_HTTP=true].
    #[arg(long, global = true)]
    pub(crate) allow_insecure_http: bool,

    /// The total time each call may take, retries included, in milliseconds,
    /// 1 to 86400000 (24 hours) [env: FBN_TOTAL_TIMEOUT_MS].
    #[arg(
        long,
        global = true,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..=max_timeout_ms())
    )]
    pub(crate) timeout_ms: Option<u64>,

    /// At most N retries of a call answered 429 (Too Many Requests), 0 to
    /// 100; 0 turns them off. Without it a 429 is waited out within the
    /// call's timeout [env: FBN_RATE_LIMIT_RETRIES].
    #[arg(
        long,
        global = true,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_RETRIES))
    )]
    pub(crate) rate_limit_retries: Option<u32>,

    /// Log the SDK's requests to stderr (-v debug, -vv trace). Secrets are
    /// never logged.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// The emulator's flags: its own, when the `emulator` feature is built in.
#[cfg(feature = "emulator")]
pub(crate) type EmulatorArgs = identity_emulator::EmulatorArgs;

/// Without the `emulator` feature: whatever was given, to say how to get it.
#[cfg(not(feature = "emulator"))]
#[derive(Debug, clap::Args)]
pub(crate) struct EmulatorArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    ignored: Vec<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run; without the emulator its stand-in is small"
)]
pub(crate) enum Command {
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Read or replace the user schema (the domain's alternative user ids).
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Run the Identity emulator in the foreground (a local stand-in for the
    /// service, for development and tests).
    Emulator(EmulatorArgs),
    /// A guided tour of the whole user lifecycle against an embedded
    /// emulator: needs no configuration and no network.
    Demo,
    /// Print the shell completion script for SHELL on stdout.
    ///
    /// For example: `fbn-identity completions bash >
    /// ~/.local/share/bash-completion/completions/fbn-identity`, `fbn-identity
    /// completions zsh > ~/.zfunc/_fbn-identity` (with `~/.zfunc` in
    /// `fpath`), `fbn-identity completions fish >
    /// ~/.config/fish/completions/fbn-identity.fish`, or in PowerShell
    /// `fbn-identity completions powershell | Out-String | Invoke-Expression`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The `users` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// The commands that are one call each.
    #[command(flatten)]
    Call(UserCall),
    /// Create the users of a file: JSON lines (one CreateUserRequest, or an
    /// exported user, a line) or CSV (the columns of `users export --format
    /// csv`), read as a stream: memory does not grow with the file nor with
    /// the domain.
    ///
    /// Each line is checked as it is read (at most 1 MiB of it); --dry-run
    /// stops there. Each good line is created: "already exists" is the
    /// service's answer to that create (the user's id then looked up by its
    /// login), so a re-run creates nothing twice, and 5 lines into a domain
    /// of a million cost a handful of calls. A create whose outcome is
    /// unknown (no answer came) is settled by looking its login up, so every
    /// line ends as created, skipped or failed. A row of a user who left
    /// (status DEPROVISIONED, in an --include-deactivated export) is skipped
    /// unless --recreate-deprovisioned.
    ///
    /// SIGINT (Ctrl-C), SIGTERM or SIGHUP stops starting creates and waits
    /// for those in flight (a second one stops at once), exit 130; when the
    /// service stops answering (--stop-after-unanswered) the import stops
    /// too, exit 3 (7 when some outcomes are unknown). The rest of the input
    /// is not read; a re-run with the same --report resumes where it
    /// stopped.
    ///
    /// The client keeps the service's pace by itself: once the service
    /// answers 429 (Too Many Requests), creates start one at a time at the
    /// pace it lets through, and a throttled create is sent again after the
    /// Retry-After it asks for. A wait longer than --longest-wait ends that
    /// line as throttled; --stop-after-unanswered lines in a row throttled
    /// so stop the import, exit 6, saying how long the service asked to wait.
    #[command(after_long_help = CSV_COLUMNS_HELP)]
    Import(ImportArgs),
    /// Write every user on stdout or to a file, as JSON lines (one
    /// UserResponse a line) or CSV, streamed as the service sends them.
    ///
    /// With --output, the users are written to a new temporary file in the
    /// same directory, .FILE.fbn-identity-export.PID.tmp (mode 0600 on
    /// unix), renamed to FILE once complete: a failed export never leaves a
    /// file that looks whole. A symbolic link at FILE is refused (exit 8).
    /// SIGINT, SIGTERM and SIGHUP remove the temporary file (exit 130); one
    /// left by a killed export is removed by the next export to FILE once
    /// its process is gone. On stdout, a failure part-way says `export
    /// stopped after N users: REASON` on stderr and exits non-zero; the lines
    /// written before it are whole. A progress line (users so far, rate)
    /// shows on stderr when it is a terminal.
    #[command(after_long_help = CSV_COLUMNS_HELP)]
    Export(ExportArgs),
    /// Keep the domain in line with a directory file (JSON lines or CSV,
    /// the columns of import and export): plan what would change, then
    /// apply it.
    ///
    /// Users are matched by login (case-insensitively), or with --key by an
    /// alternative user id (an HR number: a changed email is then one
    /// update). The plan (the default, or --plan) lists the users to create,
    /// those to update with each field old -> new, those in the domain and
    /// not in the file, and conflicts, never attempted: a different type or
    /// roles (no update changes them), a user who left (DEPROVISIONED), a
    /// login taken, a key given twice. Exit 0: no changes; 10: changes
    /// pending; 9: some lines of the file are not valid. --out saves the
    /// plan; --apply --from-plan applies a saved plan later, skipping (and
    /// reporting) each user who changed since it was made.
    ///
    /// An optional column (a JSON key) the file does not have is left as
    /// the domain has it; given empty (null), it is cleared.
    /// alternativeUserIds are set key by key. A row of a user who left
    /// (status DEPROVISIONED) is taken as not in the file.
    ///
    /// Users not in the file are left alone without --prune. --prune
    /// deletes them (deactivated and kept for audit, never purged), never
    /// the account the sync runs as (the password grant's user, or --me),
    /// only Personal users unless --prune-type says more, and with --key
    /// only users carrying that key; and it stops before changing anything
    /// when it would delete more than --max-deletes users or
    /// --max-deletes-percent of the domain. --apply paces its calls as
    /// import does, and --report resumes like import's.
    #[command(after_long_help = CSV_COLUMNS_HELP)]
    Sync(SyncArgs),
}

/// The CSV columns, for the `--help` of `import` and `export`.
pub(crate) const CSV_COLUMNS_HELP: &str = "\
CSV columns (a header row, in this order on export; by name, in any order, on import):
  id, login, firstName, lastName, emailAddress, secondEmailAddress, type,
  status, external, userExpiry, created, lastUpdated, lastLogin,
  passwordChanged, roles, alternativeUserIds

  Datetimes are RFC 3339. An empty cell is an absent value.
  roles:              scope/code;scope/code   (e.g. default/analyst;default/runner)
  alternativeUserIds: key=value;key=value     (a key with no = has a null value)
  A ;, =, / or \\ inside a scope, code, key or value is written with a \\ before it.

  Import reads firstName, lastName, emailAddress, login and type (required),
  and secondEmailAddress, userExpiry, roles and alternativeUserIds; the other
  columns are ignored, so an export can be imported into another domain as it is.
  On a terminal, control characters in cells are shown escaped (\\x1b);
  to a file or a pipe, every cell is exact.";

/// The flags of `users export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Also export the users deleted without --purge.
    #[arg(long)]
    pub(crate) include_deactivated: bool,
    /// Also export each user's roles (one GetUser a user, as many at once
    /// as the service takes).
    #[arg(long)]
    pub(crate) include_roles: bool,
    /// The format [default: csv for a FILE ending in .csv, else jsonl].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<FileFormat>,
    /// Write to FILE (through a temporary file renamed when complete)
    /// instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// The file formats of `import` and `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileFormat {
    /// JSON lines: one JSON object a line.
    Jsonl,
    /// CSV with a header row (see the columns below).
    Csv,
}

impl FileFormat {
    /// CSV for a file ending in `.csv` (any case), JSON lines otherwise.
    pub(crate) fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some(extension) if extension.eq_ignore_ascii_case("csv") => Self::Csv,
            _ => Self::Jsonl,
        }
    }
}

/// The `users` commands that are one call each (`update`: a get and a put).
#[derive(Debug, Subcommand)]
pub(crate) enum UserCall {
    /// List the users of the domain, printed as they arrive (a table in
    /// chunks of 1,000 rows, or with --json one array), whatever its size.
    List {
        /// Also list the users deleted without --purge.
        #[arg(long)]
        include_deactivated: bool,
    },
    /// List the users that can run jobs.
    Runnable,
    /// Show one user, or several: one table (or JSON array) of those found;
    /// each id that fails is reported on stderr, and the exit code is then
    /// that of the first failure.
    Get {
        /// The users' ids.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Also show the users' roles.
        #[arg(long)]
        include_roles: bool,
    },
    /// Show the user with this login.
    GetByLogin {
        /// The user's login.
        login: String,
    },
    /// Look users up by id; ids that do not resolve are listed as failed.
    Find {
        /// The ids (a repeated id is asked once).
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Create a user from flags (Personal unless --type service; the login
    /// defaults to the email address), or from a JSON CreateUserRequest with
    /// --from-file.
    #[command(
        mut_arg("first_name", |arg| arg.required_unless_present("from_file")),
        mut_arg("last_name", |arg| arg.required_unless_present("from_file")),
        mut_arg("email", |arg| arg.required_unless_present("from_file")),
    )]
    Create(CreateArgs),
    /// Change some of a user's details: the fields not given keep their
    /// value. --role replaces the user's roles; --alt-id sets the keys given
    /// and keeps the others. With --from-file, the user's details are
    /// replaced by a JSON UpdateUserRequest.
    Update {
        /// The user's id.
        id: String,
        /// The new details.
        #[command(flatten)]
        fields: UserFields,
        /// Replace the user's details with the UpdateUserRequest in FILE, in
        /// the contract's JSON form (- reads stdin), e.g. {"firstName":"Ann",
        /// "lastName":"Lee","emailAddress":"ann@acme.com","login":"ann@acme.com"}.
        #[arg(long, value_name = "FILE", conflicts_with = "UserFields")]
        from_file: Option<PathBuf>,
    },
    /// Delete a user: it is deactivated and kept for audit, unless --purge.
    Delete {
        /// The user's id.
        id: String,
        /// Remove every trace of the user.
        #[arg(long)]
        purge: bool,
    },
    /// (Re)send the activation email to a user not active yet.
    Activate(UserId),
    /// Unlock a user locked out after failed logins.
    Unlock(UserId),
    /// Return a suspended user to active.
    Unsuspend(UserId),
    /// Start a password reset.
    ResetPassword(UserId),
    /// Reset the user's multi-factor authentication enrolment.
    ResetFactors(UserId),
    /// Expire the password: prints the temporary password the user must
    /// change at next login.
    ExpirePassword(UserId),
}

/// A command's one user id.
#[derive(Debug, Args)]
pub(crate) struct UserId {
    /// The user's id.
    pub(crate) id: String,
}

/// The flags of `users create`.
#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The user's details.
    #[command(flatten)]
    pub(crate) fields: UserFields,
    /// The kind of user.
    #[arg(long = "type", value_name = "TYPE", value_enum, default_value_t = UserKind::Personal)]
    pub(crate) user_type: UserKind,
    /// Answer only once the new user shows in `users list`.
    #[arg(long)]
    pub(crate) wait_for_reindex: bool,
    /// Create the user of the CreateUserRequest in FILE, in the contract's
    /// JSON form (- reads stdin), e.g. {"firstName":"Ann","lastName":"Lee",
    /// "emailAddress":"ann@acme.com","login":"ann@acme.com","type":"Personal"}.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["UserFields", "user_type"])]
    pub(crate) from_file: Option<PathBuf>,
}

/// A user's details, as flags; `create` requires the names and the email.
#[derive(Debug, Args)]
pub(crate) struct UserFields {
    /// The first name.
    #[arg(long, value_name = "NAME")]
    pub(crate) first_name: Option<String>,
    /// The last name.
    #[arg(long, value_name = "NAME")]
    pub(crate) last_name: Option<String>,
    /// The email address (a Personal user's login).
    #[arg(long, value_name = "EMAIL")]
    pub(crate) email: Option<String>,
    /// The login (default: the email address).
    #[arg(long, value_name = "LOGIN")]
    pub(crate) login: Option<String>,
    /// A second email address (Service users only).
    #[arg(long, value_name = "EMAIL")]
    pub(crate) second_email: Option<String>,
    /// A role, as SCOPE/CODE (repeat for more).
    #[arg(long = "role", value_name = "SCOPE/CODE", value_parser = parse_role)]
    pub(crate) roles: Vec<RoleId>,
    /// An alternative user id, as KEY=VALUE, KEY a user schema property
    /// (repeat for more).
    #[arg(long = "alt-id", value_name = "KEY=VALUE", value_parser = parse_alt_id)]
    pub(crate) alt_ids: Vec<(String, String)>,
    /// When the user expires, as RFC 3339 (e.g. 2030-01-31T00:00:00Z).
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub(crate) expiry: Option<OffsetDateTime>,
}

/// The flags of `users import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The file (- for stdin). Blank lines are ignored.
    pub(crate) file: PathBuf,
    /// The format [default: csv for a FILE ending in .csv, else jsonl].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<FileFormat>,
    /// Only check the lines: report each bad one, create nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Append what became of each line to FILE, one JSON line per input
    /// line as soon as it is known, e.g.
    /// {"line":3,"login":"ann@acme.com","outcome":"created","id":"00u1"}.
    /// The outcome is "created" (with the new user's "id"), "skipped" (a
    /// "reason": "exists", with the user's "id", or "deprovisioned"; and a
    /// "message") or "failed" (a "message", and the "status" and "code" of
    /// the service's answer when there was one). The first line is a header
    /// naming the input. A new FILE is created (mode 0600 on unix); an
    /// existing one only when it is the report of this same input, to
    /// resume it: the lines it says are finished are not sent again. The
    /// input itself, a symbolic link or any other file is refused (exit 8).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// Create at most N users at once [default: 32]; the client's throttle
    /// holds them to the service's pace.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: Option<u16>,
    /// The longest the import waits at once when the service throttles it
    /// (its Retry-After): a longer wait ends that line as throttled, to be
    /// created by a re-run.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = crate::commands::import::DEFAULT_LONGEST_WAIT_SECS,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub(crate) longest_wait: u64,
    /// Create the rows of users who left (status DEPROVISIONED, in an
    /// export with --include-deactivated) too; without it they are skipped,
    /// since creating a user sends them an activation email.
    #[arg(long)]
    pub(crate) recreate_deprovisioned: bool,
    /// Stop the import after N lines in a row got no answer from the
    /// service (connection failures, timeouts, outcomes unknown), or were
    /// throttled for longer than --longest-wait; 0 never stops.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::commands::import::DEFAULT_STOP_AFTER_UNANSWERED
    )]
    pub(crate) stop_after_unanswered: u32,
}

/// The flags of `users sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The directory file (- for stdin). Blank lines are ignored.
    #[arg(required_unless_present = "from_plan", conflicts_with = "from_plan")]
    pub(crate) file: Option<PathBuf>,
    /// The format [default: csv for a FILE ending in .csv, else jsonl].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<FileFormat>,
    /// Match users by this alternative user id (a property of the user
    /// schema, e.g. employeeId) instead of their login.
    #[arg(long, value_name = "NAME", conflicts_with = "from_plan")]
    pub(crate) key: Option<String>,
    /// Only show the plan (the default): exit 0 when it is empty, 10 when
    /// changes are pending.
    #[arg(long, conflicts_with = "apply")]
    pub(crate) plan: bool,
    /// Make the changes of the plan.
    #[arg(long)]
    pub(crate) apply: bool,
    /// Save the plan to FILE (JSON, through a temporary file renamed when
    /// complete), to review it and apply it later with --from-plan.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// The plan saved by --out, instead of a FILE: shown, or with --apply
    /// applied, against the service it was made for.
    #[arg(long, value_name = "PLAN")]
    pub(crate) from_plan: Option<PathBuf>,
    /// Delete (without purge) the users of the domain that are not in the
    /// file.
    #[arg(long, conflicts_with = "from_plan")]
    pub(crate) prune: bool,
    /// The types of user --prune deletes (repeat for both) [default:
    /// personal].
    #[arg(
        long = "prune-type",
        value_enum,
        value_name = "TYPE",
        requires = "prune"
    )]
    pub(crate) prune_types: Vec<UserKind>,
    /// The login of the account the sync runs as, never pruned [default:
    /// the password grant's username; a personal access token does not say
    /// whose it is, so --prune needs --me with one].
    #[arg(long, value_name = "LOGIN", conflicts_with = "from_plan")]
    pub(crate) me: Option<String>,
    /// Delete at most N users: a plan that deletes more is refused by
    /// --apply before anything changes.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) max_deletes: u64,
    /// Delete at most P % of the domain's users (the lower of the two
    /// bounds wins).
    #[arg(long, value_name = "P", default_value_t = 5.0, value_parser = parse_percent)]
    pub(crate) max_deletes_percent: f64,
    /// With --apply: append what became of each change to FILE, one JSON
    /// line each (the report of import's form, a header first); a re-run
    /// of the same saved plan with the same FILE resumes: the changes it
    /// says are applied are not sent again.
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub(crate) report: Option<PathBuf>,
    /// With --apply: make at most N changes at once [default: 32]; the
    /// client's throttle holds them to the service's pace.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: Option<u16>,
    /// With --apply: the longest a change waits at once when the service
    /// throttles it; a longer wait ends that change as throttled.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = crate::commands::import::DEFAULT_LONGEST_WAIT_SECS,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub(crate) longest_wait: u64,
    /// With --apply: stop after N changes in a row got no answer (or were
    /// throttled longer than --longest-wait); 0 never stops.
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::commands::import::DEFAULT_STOP_AFTER_UNANSWERED
    )]
    pub(crate) stop_after_unanswered: u32,
}

/// A percentage, 0 to 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err("expected a percentage from 0 to 100, e.g. 2.5".to_owned()),
    }
}

/// The kinds of user `--type` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum UserKind {
    /// A person, whose login is their email address.
    Personal,
    /// A service account, with a login of its own.
    Service,
}

impl From<UserKind> for UserType {
    fn from(kind: UserKind) -> Self {
        match kind {
            UserKind::Personal => UserType::Personal,
            UserKind::Service => UserType::Service,
        }
    }
}

/// The `schema` commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Show the user schema.
    Get,
    /// Replace the user schema with the properties given.
    Set {
        /// A property, as NAME=DESCRIPTION (repeat for more).
        #[arg(long = "property", value_name = "NAME=DESCRIPTION", required = true, value_parser = parse_property)]
        properties: Vec<UserSchemaProperty>,
    },
}

/// Splits `text` at the first `separator`, refusing an empty left side.
fn split_pair<'a>(
    text: &'a str,
    separator: char,
    form: &str,
) -> Result<(&'a str, &'a str), String> {
    match text.split_once(separator) {
        Some((left, right)) if !left.trim().is_empty() => Ok((left.trim(), right)),
        _ => Err(format!("expected {form}")),
    }
}

/// `SCOPE/CODE` as a role id.
fn parse_role(text: &str) -> Result<RoleId, String> {
    let (scope, code) = split_pair(text, '/', "SCOPE/CODE, e.g. default/analyst")?;
    if code.trim().is_empty() {
        return Err("expected SCOPE/CODE, e.g. default/analyst".to_owned());
    }
    Ok(RoleId::new(scope, code.trim()))
}

/// `KEY=VALUE` as an alternative user id.
fn parse_alt_id(text: &str) -> Result<(String, String), String> {
    let (key, value) = split_pair(text, '=', "KEY=VALUE, e.g. employeeId=E1001")?;
    Ok((key.to_owned(), value.to_owned()))
}

/// The longest `--timeout-ms`: the SDK's longest timeout, in milliseconds.
fn max_timeout_ms() -> u64 {
    u64::try_from(MAX_TIMEOUT.as_millis()).unwrap_or(u64::MAX)
}

/// `NAME=DESCRIPTION` as a schema property.
fn parse_property(text: &str) -> Result<UserSchemaProperty, String> {
    let (name, description) = split_pair(text, '=', "NAME=DESCRIPTION, e.g. employeeId=HR number")?;
    Ok(UserSchemaProperty::new(name, description))
}

/// An RFC 3339 datetime.
fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|error| {
        format!("expected an RFC 3339 datetime such as 2030-01-31T00:00:00Z ({error})")
    })
}

#[cfg(test)]
mod tests {

    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("fbn-identity").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_before_and_after_the_command() {
        let before = parse(&["--json", "--base-url", "http://x", "users", "list"]).unwrap();
        let after = parse(&["users", "list", "--json", "--base-url", "http://x"]).unwrap();
        for cli in [before, after] {
            assert!(cli.global.json);
            assert_eq!(cli.global.base_url.as_deref(), Some("http://x"));
        }
    }

    #[test]
    fn verbose_counts() {
        assert_eq!(
            parse(&["-vv", "users", "runnable"]).unwrap().global.verbose,
            2
        );
        assert_eq!(parse(&["users", "runnable"]).unwrap().global.verbose, 0);
    }

    #[test]
    fn create_requires_the_names_and_email_and_defaults_to_personal() {
        let error = parse(&["users", "create", "--first-name", "Ann"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        let cli = parse(&[
            "users",
            "create",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
            "--email",
            "ann@example.com",
            "--role",
            "default/analyst",
            "--alt-id",
            "employeeId=E1",
            "--expiry",
            "2030-01-31T00:00:00Z",
        ])
        .unwrap();
        let Command::Users(UsersCommand::Call(UserCall::Create(create))) = cli.command else {
            panic!("not a create");
        };
        assert_eq!(create.user_type, UserKind::Personal);
        assert_eq!(create.fields.roles, [RoleId::new("default", "analyst")]);
        assert_eq!(
            create.fields.alt_ids,
            [("employeeId".to_owned(), "E1".to_owned())]
        );
        assert_eq!(create.fields.expiry.map(|at| at.year()), Some(2030));
    }

    #[test]
    fn update_takes_every_field_as_optional() {
        let cli = parse(&["users", "update", "00u1", "--last-name", "Smith"]).unwrap();
        let Command::Users(UsersCommand::Call(UserCall::Update { id, fields, .. })) = cli.command
        else {
            panic!("not an update");
        };
        assert_eq!(id, "00u1");
        assert_eq!(fields.last_name.as_deref(), Some("Smith"));
        assert!(fields.first_name.is_none());
    }

    #[test]
    fn structured_values_are_checked() {
        assert!(parse_role("default/analyst").is_ok());
        for bad in ["analyst", "/analyst", "default/", ""] {
            assert!(parse_role(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_alt_id("k=a=b").unwrap(),
            ("k".to_owned(), "a=b".to_owned())
        );
        assert_eq!(parse_alt_id("k=").unwrap(), ("k".to_owned(), String::new()));
        assert!(parse_alt_id("=v").is_err());
        assert!(parse_alt_id("novalue").is_err());
        assert_eq!(
            parse_property("employeeId=HR number").unwrap(),
            UserSchemaProperty::new("employeeId", "HR number")
        );
        assert!(parse_rfc3339("2030-01-31T00:00:00+05:30").is_ok());
        assert!(parse_rfc3339("2030-01-31").is_err());
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &[
                "users",
                "create",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--email",
                "e",
                "--type",
                "robot",
            ][..],
            &["users", "list", "--timeout-ms", "0"],
            &["users", "import", "f", "--concurrency", "0"],
            &["users", "find"],
            &["schema", "set"],
            &["schema", "set", "--property", "noequals"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
