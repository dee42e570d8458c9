//! The fault soak: many concurrent tasks run mixed calls (create, get,
//! update, lifecycle actions, delete) through the facade against an emulator
//! that injects faults, each call recording what the client was told; then
//! [`check`] compares that with what the emulator did (its users and its
//! request log) and lists every violation.
//!
//! Every call carries its own `CorrelationId` (kept across the attempts of
//! one call by the SDK), so the emulator's log groups the attempts of each
//! call. The rules checked:
//!
//! - every call ends (a guard of the total timeout plus a margin) and none
//!   runs past the total timeout plus the margin;
//! - every failure is typed (API answer, no answer, or no token) and says
//!   whether the request may have been sent; one that says "not sent" has
//!   no attempt the service processed;
//! - a success has an attempt the service answered 2xx; an API failure's
//!   last attempt has the status reported;
//! - no call is reported failed (a 4xx answer, or no answer and "not sent")
//!   while one of its attempts took effect: a replay that finds its own
//!   earlier success reports that success;
//! - a call that is not idempotent is replayed only after an attempt the
//!   service refused without acting (the emulator's own 429 and 503, or a
//!   401): it takes effect at most once; a gateway's bare 503 after the
//!   service acted is not such a refusal;
//! - a create whose outcome is unknown is settled by its login
//!   (`settle_create_user`), and the user exists exactly when it says so;
//! - each login is created at most once: a successful create is in the
//!   emulator once, with the id returned; a create that may have been sent
//!   is there at most once; one never sent is not there; a create never
//!   answers "already exists" (that would be a replay of a create that
//!   worked);
//! - each user's last name and status are those of its last successful
//!   write, unless a write whose outcome is unknown (it failed after it may
//!   have been sent, or one of its attempts was abandoned and may land late)
//!   explains the difference.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use finbourne_identity::testing::TestEmulator;
use finbourne_identity::{
    CreateUserRequest, Error, ErrorKind, IdentityClient, IdentityClientBuilder, RequestOptions,
    UpdateUserRequest, UserStatus,
};
use identity_emulator::{Emulator, Fault, FaultRule, FaultWhen, RecordedRequest};
use tokio::time::Instant;

/// The header that ties the attempts of one call together (lower case, as
/// the emulator's log keys it).
const CORRELATION_HEADER: &str = "correlationid";

/// The "correlation id" of a status the test set through the emulator's hook.
const HOOK: &str = "hook";

/// The prefix of every login the soak creates.
pub const LOGIN_PREFIX: &str = "soak-";

/// Attempts a call may make with the default retry settings: the first,
/// two retries of 429 and three transient retries.
const MAX_ATTEMPTS: usize = 1 + 2 + 3;

/// How a soak runs.
#[derive(Clone, Debug)]
pub struct SoakPlan {
    /// Calls in all.
    pub calls: usize,
    /// Concurrent tasks.
    pub tasks: usize,
    /// Seed of the fault rates and of the tasks' choices.
    pub seed: u64,
    /// The client's total timeout of a call.
    pub total_timeout: Duration,
    /// The client's attempt (read) timeout.
    pub read_timeout: Duration,
    /// The delay of a slow answer (above the attempt timeout).
    pub slow_ms: u64,
    /// How far past the total timeout a call may end (scheduling, decoding).
    pub margin: Duration,
}

impl SoakPlan {
    /// The short form (`calls` calls), overridden by `SOAK_CALLS`,
    /// `SOAK_TASKS` and `SOAK_SEED` when they are set.
    pub fn from_env(calls: usize) -> Self {
        let read = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Self {
            calls: read("SOAK_CALLS").map_or(calls, |v| v as usize),
            tasks: read("SOAK_TASKS").map_or(16, |v| v.max(1) as usize),
            seed: read("SOAK_SEED").unwrap_or(20_240_601),
            total_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_millis(200),
            slow_ms: 350,
            margin: Duration::from_millis(500),
        }
    }

    /// The fault rules: about 10 % 503, 5 % 429 with `Retry-After: 0.01`,
    /// 2.5 % connections closed before processing, 2.5 % after, 2 % a
    /// gateway's bare 503 after processing, 2 % answers slower than the
    /// attempt timeout. The first rule that fires wins, so
    /// each rule's rate is its share of the calls the earlier rules left.
    pub fn fault_rules(&self) -> Vec<FaultRule> {
        let shares = [
            (
                0.10,
                Fault::Status {
                    status: 503,
                    retry_after: None,
                },
            ),
            (
                0.05,
                Fault::Status {
                    status: 429,
                    retry_after: Some("0.01".to_owned()),
                },
            ),
            (0.025, Fault::CloseBeforeProcessing),
            (0.025, Fault::CloseAfterProcessing),
            (0.02, Fault::StatusAfterProcessing { status: 503 }),
            (0.02, Fault::Delay { ms: self.slow_ms }),
        ];
        let mut left = 1.0;
        let mut rules = Vec::new();
        for (index, (share, fault)) in (0_u64..).zip(shares) {
            let rate = share / left;
            left -= share;
            rules.push(FaultRule::new(None, fault).when(FaultWhen::Rate {
                rate,
                seed: self.seed.wrapping_add(index),
            }));
        }
        rules
    }

    /// The client settings of the soak: short attempt timeout, bounded total.
    pub fn configure(&self, builder: IdentityClientBuilder) -> IdentityClientBuilder {
        builder
            .read_timeout(self.read_timeout)
            .total_timeout(self.total_timeout)
    }
}

/// The operations the soak calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Create,
    Get,
    GetFromLogin,
    Update,
    Expire,
    ResetPassword,
    ResetFactors,
    Unlock,
    Unsuspend,
    Activate,
    Delete,
}

impl Op {
    const LIFECYCLE: [Op; 6] = [
        Op::Expire,
        Op::ResetPassword,
        Op::ResetFactors,
        Op::Unlock,
        Op::Unsuspend,
        Op::Activate,
    ];

    /// The contract's name, as the emulator's log has it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "CreateUser",
            Op::Get => "GetUser",
            Op::GetFromLogin => "GetUserFromLogin",
            Op::Update => "UpdateUser",
            Op::Expire => "ExpirePassword",
            Op::ResetPassword => "ResetPassword",
            Op::ResetFactors => "ResetFactors",
            Op::Unlock => "UnlockUser",
            Op::Unsuspend => "UnsuspendUser",
            Op::Activate => "SendActivationEmail",
            Op::Delete => "DeleteUser",
        }
    }

    /// Whether replaying it after it may have been processed is harmless
    /// (the design's list: creates and the password and activation actions
    /// are not).
    fn idempotent(self) -> bool {
        !matches!(
            self,
            Op::Create | Op::Expire | Op::ResetPassword | Op::Activate
        )
    }

    /// The operations a call of `self` may send besides its own attempts:
    /// the GetUser that confirms an "already done" refusal to a replay, and
    /// the look-ups that settle a create of unknown outcome.
    fn follow_ups(self) -> &'static [&'static str] {
        match self {
            Op::Unlock | Op::Unsuspend => &["GetUser"],
            Op::Create => &["GetUserFromLogin", "ListUsers"],
            _ => &[],
        }
    }

    /// Whether a call changes the user (reads have no effect to lose).
    fn writes(self) -> bool {
        !matches!(self, Op::Get | Op::GetFromLogin)
    }

    /// Whether the last of `tried` is the operation's "already done"
    /// refusal to a replay after an attempt the service may have processed,
    /// which the SDK reports as a success: UnlockUser's and UnsuspendUser's
    /// 400 (the SDK confirms the user is `ACTIVE`), DeleteUser's 404.
    fn already_done(self, tried: &[&RecordedRequest]) -> bool {
        let Some((last, earlier)) = tried.split_last() else {
            return false;
        };
        let refusal = match self {
            Op::Unlock | Op::Unsuspend => 400,
            Op::Delete => 404,
            _ => return false,
        };
        last.status == Some(refusal) && earlier.iter().any(|a| !refused_without_acting(a))
    }

    /// The status a successful lifecycle action leaves (the service's
    /// lifecycle table), `None` for one that changes none.
    fn leaves(self) -> Option<UserStatus> {
        match self {
            Op::Expire => Some(UserStatus::PasswordExpired),
            Op::ResetPassword => Some(UserStatus::Recovery),
            Op::Unlock | Op::Unsuspend => Some(UserStatus::Active),
            Op::Activate => Some(UserStatus::Provisioned),
            Op::Delete => Some(UserStatus::Deprovisioned),
            _ => None,
        }
    }
}

/// What the client was told of a failed call.
#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    pub may_have_been_sent: bool,
    /// No answer says what came of the call (`Error::is_outcome_unknown`).
    pub outcome_unknown: bool,
    /// For a create of unknown outcome: what settling it by its login found
    /// (`Some(false)`: not created), when it could be settled.
    pub settled: Option<bool>,
    pub status: Option<u16>,
    /// The error's `Display`, with its chain of sources.
    pub message: String,
    /// The error's `Debug`.
    pub debug: String,
}

impl Failure {
    fn of(error: &Error) -> Self {
        Self {
            kind: error.kind(),
            may_have_been_sent: error.may_have_been_sent(),
            outcome_unknown: error.is_outcome_unknown(),
            settled: None,
            status: error.status().map(|status| status.as_u16()),
            message: display_chain(error),
            debug: format!("{error:?}"),
        }
    }

    /// The service refused the call and did not act on it (a 4xx other
    /// than 429, after every retry, whatever kind of refusal it is).
    fn refused(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Api
                | ErrorKind::NotFound
                | ErrorKind::AlreadyExists
                | ErrorKind::Validation
                | ErrorKind::Auth
        ) && self
            .status
            .is_some_and(|s| (400..500).contains(&s) && s != 429)
    }

    /// The call may have taken effect.
    fn uncertain(&self) -> bool {
        self.may_have_been_sent && !self.refused()
    }

    /// The client was told the call failed for certain: a 4xx answer, or
    /// no answer for a request that was never sent.
    fn definite(&self) -> bool {
        let no_answer_maybe_sent = self.kind == ErrorKind::NoAnswer && self.may_have_been_sent;
        !(self.outcome_unknown || no_answer_maybe_sent)
    }
}

/// `error`'s message followed by its sources'.
pub fn display_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How a call ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Success,
    Failed(Failure),
    /// The guard fired: the call did not end within its total timeout plus
    /// the guard's slack.
    Hung,
}

/// One call, as the client saw it.
#[derive(Clone, Debug)]
pub struct CallRecord {
    pub correlation: String,
    pub op: Op,
    pub elapsed: Duration,
    pub outcome: Outcome,
    /// Something the answer itself got wrong (a field not as sent).
    pub wrong_answer: Option<String>,
    /// The outcome is a create of unknown outcome, settled by its login.
    pub settled: bool,
}

/// A value of a user the soak writes, with every write made to it.
#[derive(Clone, Debug)]
struct Register<T> {
    initial: T,
    /// (value, the call's correlation id, whether the call succeeded).
    writes: Vec<(T, String, bool)>,
}

impl<T: Clone + PartialEq + fmt::Debug> Register<T> {
    fn new(initial: T) -> Self {
        Self {
            initial,
            writes: Vec::new(),
        }
    }

    /// The values the register may hold now: that of its last successful
    /// write (else the initial one), and that of any write whose outcome is
    /// unknown, wherever it was (a late attempt may land after later writes).
    fn allowed(&self, uncertain: &HashSet<&str>) -> Vec<T> {
        let base = self
            .writes
            .iter()
            .rev()
            .find(|(_, _, succeeded)| *succeeded)
            .map_or(&self.initial, |(value, _, _)| value);
        let mut allowed = vec![base.clone()];
        for (value, correlation, _) in &self.writes {
            if uncertain.contains(correlation.as_str()) && !allowed.contains(value) {
                allowed.push(value.clone());
            }
        }
        allowed
    }
}

/// A login the soak tried to create, and what it did to that user after.
#[derive(Clone, Debug)]
struct TrackedUser {
    login: String,
    create: String,
    /// The id, when the create succeeded.
    id: Option<String>,
    last_name: Register<String>,
    status: Register<UserStatus>,
}

/// Everything one soak did.
#[derive(Debug, Default)]
pub struct SoakRun {
    pub calls: Vec<CallRecord>,
    users: Vec<TrackedUser>,
    pub wall_time: Duration,
}

/// Runs `plan` with `client` against `emulator` (whose faults the caller
/// set), `plan.tasks` tasks at once.
pub async fn run(
    client: &IdentityClient,
    emulator: &Arc<TestEmulator>,
    plan: &SoakPlan,
) -> SoakRun {
    let started = Instant::now();
    let per_task = plan.calls.div_ceil(plan.tasks);
    let mut tasks = Vec::new();
    for number in 0..plan.tasks {
        let calls = per_task.min(plan.calls.saturating_sub(number * per_task));
        let worker = Worker {
            number,
            client: client.clone(),
            emulator: emulator.clone(),
            plan: plan.clone(),
            rng: fastrand::Rng::with_seed(plan.seed ^ (number as u64).wrapping_mul(0x9E37_79B9)),
            calls: Vec::new(),
            users: Vec::new(),
            alive: Vec::new(),
            sequence: 0,
        };
        tasks.push(tokio::spawn(worker.work(calls)));
    }
    let mut run = SoakRun::default();
    for task in tasks {
        let (calls, users) = task.await.expect("a soak task panicked");
        run.calls.extend(calls);
        run.users.extend(users);
    }
    run.wall_time = started.elapsed();
    run
}

/// One task of the soak, with the users it owns (no other task touches
/// them, so its calls on each user are in a known order).
struct Worker {
    number: usize,
    client: IdentityClient,
    emulator: Arc<TestEmulator>,
    plan: SoakPlan,
    rng: fastrand::Rng,
    calls: Vec<CallRecord>,
    users: Vec<TrackedUser>,
    /// Indexes into `users` of those it still calls.
    alive: Vec<usize>,
    sequence: usize,
}

impl Worker {
    async fn work(mut self, calls: usize) -> (Vec<CallRecord>, Vec<TrackedUser>) {
        for _ in 0..calls {
            let op = self.pick();
            self.sequence += 1;
            match op {
                Op::Create => self.create().await,
                _ => {
                    let slot = self.rng.usize(..self.alive.len());
                    self.on_user(op, slot).await;
                }
            }
        }
        (self.calls, self.users)
    }

    fn pick(&mut self) -> Op {
        if self.alive.is_empty() {
            return Op::Create;
        }
        match self.rng.u32(..100) {
            0..18 if self.alive.len() < 6 => Op::Create,
            0..40 => Op::Get,
            40..45 => Op::GetFromLogin,
            45..63 => Op::Update,
            63..90 => Op::LIFECYCLE[self.rng.usize(..Op::LIFECYCLE.len())],
            _ => Op::Delete,
        }
    }

    fn correlation(&self, op: Op) -> String {
        format!("soak-{}-{}-{}", self.number, self.sequence, op.name())
    }

    /// Runs one call under the guard and records it.
    async fn record<T>(
        &mut self,
        op: Op,
        correlation: String,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Option<T> {
        let guard = self.plan.total_timeout + self.plan.margin + Duration::from_secs(5);
        let started = Instant::now();
        let result = tokio::time::timeout(guard, call).await;
        let elapsed = started.elapsed();
        let (outcome, value) = match result {
            Err(_) => (Outcome::Hung, None),
            Ok(Ok(value)) => (Outcome::Success, Some(value)),
            Ok(Err(error)) => (Outcome::Failed(Failure::of(&error)), None),
        };
        self.calls.push(CallRecord {
            correlation,
            op,
            elapsed,
            outcome,
            wrong_answer: None,
            settled: false,
        });
        value
    }

    /// Settles the create just recorded when its outcome is unknown: the
    /// user when it was created after all (the call then counts as the
    /// success it was), `None` otherwise.
    async fn settle(
        &mut self,
        request: &CreateUserRequest,
        options: RequestOptions,
    ) -> Option<finbourne_identity::UserResponse> {
        let unknown = matches!(
            self.calls.last().map(|c| &c.outcome),
            Some(Outcome::Failed(failure)) if failure.outcome_unknown
        );
        if !unknown {
            return None;
        }
        let guard = self.plan.total_timeout + self.plan.margin + Duration::from_secs(5);
        let settle = self
            .client
            .users()
            .settle_create_user(request)
            .options(options)
            .send();
        let found = match tokio::time::timeout(guard, settle).await {
            Ok(Ok(found)) => found,
            Ok(Err(_)) | Err(_) => return None,
        };
        if let Some(call) = self.calls.last_mut() {
            call.settled = true;
            match (&found, &mut call.outcome) {
                (Some(_), outcome) => *outcome = Outcome::Success,
                (None, Outcome::Failed(failure)) => failure.settled = Some(false),
                (None, _) => {}
            }
        }
        found
    }

    fn note_wrong_answer(&mut self, what: String) {
        if let Some(call) = self.calls.last_mut() {
            call.wrong_answer = Some(what);
        }
    }

    async fn create(&mut self) {
        let login = format!(
            "{LOGIN_PREFIX}{}-{}@example.com",
            self.number, self.sequence
        );
        let correlation = self.correlation(Op::Create);
        let request = CreateUserRequest::personal("Soak", "Gen0", &login);
        let client = self.client.clone();
        let options = RequestOptions::new()
            .correlation_id(&correlation)
            .expect("a correlation id fit for a header");
        let mut created = self
            .record(
                Op::Create,
                correlation.clone(),
                client
                    .users()
                    .create_user(&request)
                    .options(options.clone())
                    .send(),
            )
            .await;
        if created.is_none() {
            created = self.settle(&request, options).await;
        }
        let mut user = TrackedUser {
            login: login.clone(),
            create: correlation,
            id: None,
            last_name: Register::new("Gen0".to_owned()),
            status: Register::new(UserStatus::Active),
        };
        if let Some(created) = created {
            if created.login != login || created.last_name != "Gen0" {
                self.note_wrong_answer(format!("created {created:?} for login {login}"));
            }
            // Active, so that the password actions apply (a hook: neither
            // logged nor faulted).
            self.emulator
                .set_user_status(&created.id, UserStatus::Active)
                .expect("the hook sets the status");
            user.id = Some(created.id);
            self.alive.push(self.users.len());
        }
        self.users.push(user);
    }

    async fn on_user(&mut self, op: Op, slot: usize) {
        let index = self.alive[slot];
        let id = self.users[index].id.clone().expect("alive users have ids");
        let login = self.users[index].login.clone();
        let correlation = self.correlation(op);
        let options = RequestOptions::new()
            .correlation_id(&correlation)
            .expect("a correlation id fit for a header");
        let users = self.client.users().clone();
        let c = correlation.clone();
        match op {
            Op::Get => {
                if let Some(user) = self
                    .record(op, c, users.get_user(&id).options(options).send())
                    .await
                    && (user.id != id || user.login != login)
                {
                    self.note_wrong_answer(format!("asked for {id}, got {user:?}"));
                }
            }
            Op::GetFromLogin => {
                let call = users.get_user_from_login(&login).options(options).send();
                if let Some(user) = self.record(op, c, call).await
                    && user.id != id
                {
                    self.note_wrong_answer(format!("asked for {login}, got {user:?}"));
                }
            }
            Op::Update => {
                let last_name = format!("Gen{}", self.sequence);
                let update = UpdateUserRequest::new("Soak", &last_name, &login, &login);
                let call = users.update_user(&id, &update).options(options).send();
                let answer = self.record(op, c, call).await;
                if let Some(user) = &answer
                    && user.last_name != last_name
                {
                    self.note_wrong_answer(format!("updated to {last_name}, answered {user:?}"));
                }
                self.write_last_name(index, last_name, correlation.clone());
            }
            Op::Expire => {
                let call = users.expire_password(&id).options(options).send();
                if let Some(password) = self.record(op, c, call).await
                    && password.password.is_empty()
                {
                    self.note_wrong_answer("an empty temporary password".to_owned());
                }
            }
            Op::ResetPassword => {
                self.record(op, c, users.reset_password(&id).options(options).send())
                    .await;
            }
            Op::ResetFactors => {
                self.record(op, c, users.reset_factors(&id).options(options).send())
                    .await;
            }
            Op::Unlock => {
                if self.rng.bool() {
                    self.set_status(index, &id, UserStatus::LockedOut);
                }
                self.record(op, c, users.unlock_user(&id).options(options).send())
                    .await;
            }
            Op::Unsuspend => {
                if self.rng.bool() {
                    self.set_status(index, &id, UserStatus::Suspended);
                }
                self.record(op, c, users.unsuspend_user(&id).options(options).send())
                    .await;
            }
            Op::Activate => {
                let call = users.send_activation_email(&id).options(options).send();
                self.record(op, c, call).await;
            }
            Op::Delete => {
                self.record(op, c, users.delete_user(&id).options(options).send())
                    .await;
                // Whatever came of it, the task leaves the user alone now.
                self.alive.swap_remove(slot);
            }
            Op::Create => unreachable!("creates have no user yet"),
        }
        if let Some(status) = op.leaves() {
            self.write_status(index, status, correlation);
        }
    }

    /// Records a write of the last name by the call just made. Whether it
    /// counts is decided by [`check`]: a success's always, a failure's when
    /// its outcome is unknown.
    fn write_last_name(&mut self, index: usize, value: String, correlation: String) {
        let succeeded = self.last_succeeded();
        self.users[index]
            .last_name
            .writes
            .push((value, correlation, succeeded));
    }

    fn write_status(&mut self, index: usize, value: UserStatus, correlation: String) {
        let succeeded = self.last_succeeded();
        self.users[index]
            .status
            .writes
            .push((value, correlation, succeeded));
    }

    fn last_succeeded(&self) -> bool {
        matches!(
            self.calls.last().map(|call| &call.outcome),
            Some(Outcome::Success)
        )
    }

    /// Puts the user in `status` directly (a hook: neither logged nor
    /// faulted), so that UnlockUser and UnsuspendUser have something to do.
    fn set_status(&mut self, index: usize, id: &str, status: UserStatus) {
        self.emulator
            .set_user_status(id, status.clone())
            .expect("the hook sets the status");
        self.users[index]
            .status
            .writes
            .push((status, HOOK.to_owned(), true));
    }
}

/// Counts of a soak, printed at its end.
#[derive(Debug, Default)]
pub struct SoakSummary {
    pub calls: usize,
    pub succeeded: usize,
    pub refused: usize,
    pub failed_by_kind: BTreeMap<String, usize>,
    pub failed_may_have_been_sent: usize,
    pub by_op: BTreeMap<&'static str, (usize, usize)>,
    pub attempts: usize,
    pub answered_503: usize,
    pub answered_429: usize,
    pub dropped: usize,
    pub abandoned_attempt_calls: usize,
    /// Calls reported failed (for certain) whose effect was made: must be 0.
    pub failed_with_effect: usize,
    /// CreateUser requests the emulator carried out (its log's
    /// `createdLogin`), each login at most once.
    pub creates_carried_out: usize,
    /// Creates of unknown outcome settled by their login: created, not.
    pub settled_created: usize,
    pub settled_not_created: usize,
    pub users_created: usize,
    pub ambiguous_creates: usize,
    pub ambiguous_creates_present: usize,
    pub users_checked_exactly: usize,
    pub max_elapsed: Duration,
    pub mean_elapsed: Duration,
    pub wall_time: Duration,
}

impl fmt::Display for SoakSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak: {} calls in {:.2?}: {} succeeded, {} refused by the service (4xx), {} failed {:?} ({} of them may have been sent)",
            self.calls,
            self.wall_time,
            self.succeeded,
            self.refused,
            self.failed_by_kind.values().sum::<usize>(),
            self.failed_by_kind,
            self.failed_may_have_been_sent,
        )?;
        writeln!(f, "  by operation (succeeded, other): {:?}", self.by_op)?;
        writeln!(
            f,
            "  attempts seen by the emulator: {} ({} retries); answered 503: {}, 429: {}, connection dropped or abandoned: {}; calls with an abandoned attempt: {}",
            self.attempts,
            self.attempts.saturating_sub(self.calls),
            self.answered_503,
            self.answered_429,
            self.dropped,
            self.abandoned_attempt_calls,
        )?;
        writeln!(
            f,
            "  users: {} created and acknowledged, {} creates of unknown outcome settled by login ({} created, {} not), {} left unknown ({} of them exist), {} users' final state checked exactly",
            self.users_created,
            self.settled_created + self.settled_not_created,
            self.settled_created,
            self.settled_not_created,
            self.ambiguous_creates,
            self.ambiguous_creates_present,
            self.users_checked_exactly,
        )?;
        writeln!(
            f,
            "  calls reported failed whose effect is in the final state: {} (must be 0); creates carried out: {}, no login twice",
            self.failed_with_effect, self.creates_carried_out,
        )?;
        write!(
            f,
            "  call time: mean {:.1?}, max {:.1?}",
            self.mean_elapsed, self.max_elapsed
        )
    }
}

/// Compares what the client was told with what the emulator did: the counts,
/// and every violation of the rules of the module docs.
pub fn check(run: &SoakRun, emulator: &Emulator, plan: &SoakPlan) -> (SoakSummary, Vec<String>) {
    let log = emulator.requests();
    let stored = emulator.users();
    let mut violations = Vec::new();
    let mut summary = SoakSummary {
        calls: run.calls.len(),
        wall_time: run.wall_time,
        ..SoakSummary::default()
    };

    // The attempts of each call, in arrival order.
    let mut attempts: HashMap<&str, Vec<&RecordedRequest>> = HashMap::new();
    for request in &log {
        if request.operation.as_deref() == Some("Token") {
            continue;
        }
        match request.headers.get(CORRELATION_HEADER) {
            Some(correlation) => attempts.entry(correlation).or_default().push(request),
            None => violations.push(format!(
                "a request without a correlation id: {} {}",
                request.method, request.path
            )),
        }
        summary.attempts += 1;
        match request.status {
            Some(503) => summary.answered_503 += 1,
            Some(429) => summary.answered_429 += 1,
            None => summary.dropped += 1,
            _ => {}
        }
    }
    // Nothing created twice, counted in a way that can fail: the creates
    // the emulator carried out, per login, whatever became of their
    // answers (the directory's unique logins alone would hide a duplicate:
    // a second create of a login is refused, unless the first was deleted
    // in between).
    let mut creates: HashMap<String, usize> = HashMap::new();
    for login in log.iter().filter_map(|r| r.created_login.as_deref()) {
        *creates.entry(login.to_lowercase()).or_default() += 1;
    }
    summary.creates_carried_out = creates.values().sum();
    for (login, count) in &creates {
        if *count > 1 {
            violations.push(format!(
                "{login} was created {count} times (the request log)"
            ));
        }
    }
    let known: HashSet<&str> = run.calls.iter().map(|c| c.correlation.as_str()).collect();
    for correlation in attempts.keys() {
        if !known.contains(correlation) {
            violations.push(format!("requests of a call never made: {correlation}"));
        }
    }

    // Each call against its attempts.
    let none = Vec::new();
    let mut uncertain: HashSet<&str> = HashSet::new();
    let mut total_elapsed = Duration::ZERO;
    for call in &run.calls {
        let all = attempts.get(call.correlation.as_str()).unwrap_or(&none);
        let name = call.op.name();
        // The call's own attempts; its follow-ups (a confirming GetUser, a
        // settling look-up) are checked apart.
        let tried: Vec<&RecordedRequest> = all
            .iter()
            .copied()
            .filter(|a| a.operation.as_deref() == Some(name))
            .collect();
        let tried = &tried;
        let id = &call.correlation;
        total_elapsed += call.elapsed;
        summary.max_elapsed = summary.max_elapsed.max(call.elapsed);
        let entry = summary.by_op.entry(name).or_default();
        if matches!(call.outcome, Outcome::Success) {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        if call.elapsed > plan.total_timeout + plan.margin {
            violations.push(format!(
                "{id} ran {:?}, past the total timeout {:?} + {:?}",
                call.elapsed, plan.total_timeout, plan.margin
            ));
        }
        if let Some(wrong) = &call.wrong_answer {
            violations.push(format!("{id}: wrong answer: {wrong}"));
        }
        if tried.len() > MAX_ATTEMPTS {
            violations.push(format!("{id} made {} attempts", tried.len()));
        }
        if let Some(other) = all.iter().find(|a| {
            a.operation.as_deref() != Some(name)
                && !a
                    .operation
                    .as_deref()
                    .is_some_and(|op| call.op.follow_ups().contains(&op))
        }) {
            violations.push(format!(
                "{id} reached {:?} at {}",
                other.operation, other.path
            ));
        }
        let processed = |a: &&RecordedRequest| !refused_without_acting(a);
        let abandoned = tried
            .iter()
            .take(tried.len().saturating_sub(1))
            .any(processed);
        if abandoned {
            summary.abandoned_attempt_calls += 1;
            uncertain.insert(id);
            if !call.op.idempotent() {
                let statuses: Vec<_> = tried.iter().map(|a| a.status).collect();
                violations.push(format!(
                    "{id}: {name} is not idempotent but was replayed after an attempt the service may have processed: {statuses:?}"
                ));
            }
        }
        match &call.outcome {
            Outcome::Hung => {
                uncertain.insert(id);
                violations.push(format!("{id} did not end within {:?}", call.elapsed));
            }
            Outcome::Success => {
                summary.succeeded += 1;
                if call.settled {
                    summary.settled_created += 1;
                }
                if !tried.iter().any(took_effect) && !call.op.already_done(tried) {
                    violations.push(format!(
                        "{id} succeeded but no attempt took effect: {tried:?}"
                    ));
                }
            }
            Outcome::Failed(failure) => {
                if failure.refused() {
                    summary.refused += 1;
                } else {
                    *summary
                        .failed_by_kind
                        .entry(format!("{:?}", failure.kind))
                        .or_default() += 1;
                    if failure.may_have_been_sent {
                        summary.failed_may_have_been_sent += 1;
                    }
                }
                if failure.uncertain() && failure.settled.is_none() {
                    uncertain.insert(id);
                }
                if failure.definite()
                    && call.op.writes()
                    && let Some(effect) = tried.iter().find(|a| took_effect(a))
                {
                    summary.failed_with_effect += 1;
                    violations.push(format!(
                        "{id} was reported failed ({}), but an attempt took effect: {effect:?}",
                        failure.message
                    ));
                }
                check_failure(id, failure, tried, &mut violations);
            }
        }
    }
    if !run.calls.is_empty() {
        summary.mean_elapsed = total_elapsed / run.calls.len() as u32;
    }

    check_users(
        run,
        &stored,
        &attempts,
        &uncertain,
        &mut summary,
        &mut violations,
    );
    (summary, violations)
}

/// The emulator refused an attempt without acting on it: its own injected
/// status (429, 503 with its request id), or a 401 (the bearer token is
/// checked before any route runs, which is why the SDK replays a 401 whose
/// token it replaced, idempotent or not). A dropped connection, or a
/// gateway's bare status after processing, may have come after the change.
fn refused_without_acting(attempt: &&RecordedRequest) -> bool {
    attempt.status == Some(401) || attempt.fault.as_deref() == Some("status")
}

/// The attempt's change was made: it was answered 2xx, or its answer was
/// replaced by a fault after the call itself answered 2xx.
fn took_effect(attempt: &&RecordedRequest) -> bool {
    let success = |status: Option<u16>| status.is_some_and(|s| (200..300).contains(&s));
    success(attempt.status) || success(attempt.processed_status)
}

/// The rules of a failed call against its attempts.
fn check_failure(
    id: &str,
    failure: &Failure,
    tried: &[&RecordedRequest],
    violations: &mut Vec<String>,
) {
    let typed = matches!(
        failure.kind,
        ErrorKind::Api
            | ErrorKind::NotFound
            | ErrorKind::AlreadyExists
            | ErrorKind::Validation
            | ErrorKind::OutcomeUnknown
            | ErrorKind::NoAnswer
            | ErrorKind::Auth
            | ErrorKind::Throttled
    );
    if !typed {
        violations.push(format!(
            "{id} failed with an unexpected kind {:?}: {}",
            failure.kind, failure.message
        ));
    }
    // A failure with a status is the last attempt's answer (a throttled
    // one, the service's 429).
    if failure.kind == ErrorKind::Api || failure.status.is_some() {
        let last = tried.last().and_then(|a| a.status);
        if failure.status.is_none() || last != failure.status {
            violations.push(format!(
                "{id} reported status {:?} but its last attempt was answered {last:?}",
                failure.status
            ));
        }
    }
    if !failure.may_have_been_sent
        && let Some(processed) = tried.iter().find(|a| !refused_without_acting(a))
    {
        violations.push(format!(
            "{id} said it was not sent ({}), but the service got it: {processed:?}",
            failure.message
        ));
    }
}

/// The rules of the users: each login created at most once, acknowledged
/// creates present, final fields explained by the writes.
fn check_users(
    run: &SoakRun,
    stored: &[finbourne_identity::UserResponse],
    attempts: &HashMap<&str, Vec<&RecordedRequest>>,
    uncertain: &HashSet<&str>,
    summary: &mut SoakSummary,
    violations: &mut Vec<String>,
) {
    let mut by_login: HashMap<String, Vec<&finbourne_identity::UserResponse>> = HashMap::new();
    for user in stored
        .iter()
        .filter(|u| u.login.to_lowercase().starts_with(LOGIN_PREFIX))
    {
        by_login
            .entry(user.login.to_lowercase())
            .or_default()
            .push(user);
    }
    let tracked: HashSet<String> = run.users.iter().map(|u| u.login.to_lowercase()).collect();
    for (login, users) in &by_login {
        if users.len() > 1 {
            violations.push(format!("{login} was created {} times", users.len()));
        }
        if !tracked.contains(login) {
            violations.push(format!("{login} exists but the soak never created it"));
        }
    }
    let outcomes: HashMap<&str, &CallRecord> = run
        .calls
        .iter()
        .map(|call| (call.correlation.as_str(), call))
        .collect();
    for user in &run.users {
        let present = by_login
            .get(&user.login.to_lowercase())
            .map_or(&[][..], Vec::as_slice);
        let Some(create) = outcomes.get(user.create.as_str()) else {
            violations.push(format!("no record of the create of {}", user.login));
            continue;
        };
        match &create.outcome {
            Outcome::Success => {
                summary.users_created += 1;
                let id = user.id.as_deref().unwrap_or_default();
                match present {
                    [stored] if stored.id == id => {
                        check_fields(user, stored, uncertain, summary, violations)
                    }
                    [] => violations.push(format!(
                        "{} ({id}) was acknowledged but is lost",
                        user.login
                    )),
                    _ => violations.push(format!(
                        "{} ({id}) was acknowledged but the emulator has {present:?}",
                        user.login
                    )),
                }
            }
            Outcome::Failed(failure) if failure.status == Some(400) => {
                // Every login is new: "already exists" means a replay.
                violations.push(format!(
                    "the create of {} was refused ({}): a replay of a create that worked? attempts {:?}",
                    user.login,
                    failure.message,
                    attempts.get(user.create.as_str())
                ));
            }
            Outcome::Failed(failure) if !failure.may_have_been_sent && !present.is_empty() => {
                violations.push(format!(
                    "the create of {} said it was not sent, but the user exists",
                    user.login
                ));
            }
            Outcome::Failed(failure) if failure.settled == Some(false) => {
                summary.settled_not_created += 1;
                if !present.is_empty() {
                    violations.push(format!(
                        "the create of {} was settled as not created, but the user exists: {present:?}",
                        user.login
                    ));
                }
            }
            Outcome::Failed(_) | Outcome::Hung => {
                summary.ambiguous_creates += 1;
                if !present.is_empty() {
                    summary.ambiguous_creates_present += 1;
                }
            }
        }
    }
}

/// A created user's last name and status against its writes.
fn check_fields(
    user: &TrackedUser,
    stored: &finbourne_identity::UserResponse,
    uncertain: &HashSet<&str>,
    summary: &mut SoakSummary,
    violations: &mut Vec<String>,
) {
    let names = user.last_name.allowed(uncertain);
    let statuses = user.status.allowed(uncertain);
    if names.len() == 1 && statuses.len() == 1 {
        summary.users_checked_exactly += 1;
    }
    if !names.contains(&stored.last_name) {
        violations.push(format!(
            "{}: last name {:?}, but the writes allow only {names:?} (writes {:?})",
            user.login, stored.last_name, user.last_name.writes
        ));
    }
    if !statuses.contains(&stored.status) {
        violations.push(format!(
            "{}: status {:?}, but the writes allow only {statuses:?} (writes {:?})",
            user.login, stored.status, user.status.writes
        ));
    }
}
