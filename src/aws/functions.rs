//! Lambda, for the trace path: each distinct function (ARN + qualifier)
//! read once per run with GetFunctionConfiguration, in the function's own
//! account (through the scan role when that is another member); and the
//! path fix, UpdateFunctionConfiguration, through the remediation role.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_lambda::types::{TracingConfig, TracingMode};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;
use tracing::{debug, instrument, warn};

use super::accounts::{self, Identity};
use super::pacing::Pacer;
use super::{AccountSession, AwsEnv};
use crate::config::{AccountSource, Config};
use crate::model::{AccountId, AccountRegion};
use crate::report::{chain, ErrorEntry, ErrorKind};
use crate::trace_path::{FunctionMode, FunctionRef, FunctionState};

/// A function that could not be read: its paths are UNKNOWN.
#[derive(Debug, thiserror::Error)]
pub enum FunctionReadError {
    #[error("function {function}: account {account} is not among the accounts this scan may read ({why})")]
    OutOfScope {
        function: String,
        account: AccountId,
        why: &'static str,
    },
    #[error("function {function}: cannot read it in account {account}: {why}")]
    NoSession {
        function: String,
        account: AccountId,
        why: String,
    },
    #[error("function {function}: lambda:GetFunctionConfiguration failed")]
    Call {
        function: String,
        at: AccountRegion,
        #[source]
        source: aws_sdk_lambda::Error,
    },
}

impl From<&FunctionReadError> for ErrorEntry {
    fn from(e: &FunctionReadError) -> Self {
        let (account, region, code) = match e {
            FunctionReadError::OutOfScope { account, .. }
            | FunctionReadError::NoSession { account, .. } => (account, None, None),
            FunctionReadError::Call { at, source, .. } => (
                &at.account,
                Some(at.region),
                source.code().map(str::to_owned),
            ),
        };
        Self {
            code,
            ..Self::new(
                ErrorKind::FunctionUnreadable,
                Some(account),
                region,
                chain(e),
            )
        }
    }
}

type SessionCell = Arc<OnceCell<Result<Arc<AccountSession>, String>>>;
type StateCell = Arc<OnceCell<FunctionState>>;

/// Reads functions for a whole run: each function once, each account's
/// session opened once, every read paced per account-region.
pub struct FunctionReader<'a> {
    env: &'a AwsEnv,
    cfg: &'a Config,
    me: &'a Identity,
    pacer: Pacer,
    sessions: Mutex<HashMap<AccountId, SessionCell>>,
    states: Mutex<HashMap<FunctionRef, StateCell>>,
    /// The organization's accounts, when the run listed them.
    organization: Option<std::collections::BTreeSet<AccountId>>,
}

impl<'a> FunctionReader<'a> {
    pub fn new(env: &'a AwsEnv, cfg: &'a Config, me: &'a Identity, pacer: Pacer) -> Self {
        Self {
            env,
            cfg,
            me,
            pacer,
            sessions: Mutex::default(),
            states: Mutex::default(),
            organization: None,
        }
    }

    /// Functions of accounts outside `organization` (when known) are not
    /// read: UNKNOWN without an AssumeRole that would be refused anyway.
    pub fn within(self, organization: Option<std::collections::BTreeSet<AccountId>>) -> Self {
        Self {
            organization,
            ..self
        }
    }

    fn session_cell(&self, account: &AccountId) -> SessionCell {
        let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(account.clone()).or_default().clone()
    }

    /// The state of `f`, read at most once per run. The warning, when it
    /// could not be read, goes to the caller that read it (once per run).
    /// `local` is the session of the account being scanned: its own
    /// functions are read through it (no role assumed again); only another
    /// account's session is opened here, and kept for the run.
    pub async fn read(
        &self,
        f: &FunctionRef,
        local: &AccountSession,
    ) -> (FunctionState, Option<FunctionReadError>) {
        let cell = {
            let mut map = self.states.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(f.clone()).or_default().clone()
        };
        let mut problem = None;
        let state = cell
            .get_or_init(|| async {
                let (state, e) = self.read_once(f, local).await;
                problem = e;
                state
            })
            .await
            .clone();
        (state, problem)
    }

    /// Why the scan may not read `account` at all, if so: the same scope
    /// as the scan's own (excluded, or outside a fixed account list).
    fn out_of_scope(&self, account: &AccountId) -> Option<&'static str> {
        if *account == self.me.account {
            return None;
        }
        if self.cfg.exclude.contains(account) {
            return Some("excluded by --exclude-accounts");
        }
        if self
            .organization
            .as_ref()
            .is_some_and(|org| !org.contains(account))
        {
            return Some("not an active account of the organization");
        }
        match &self.cfg.accounts {
            AccountSource::Fixed(list) if !list.contains(account) => Some("not in --accounts"),
            _ => None,
        }
    }

    #[instrument(skip_all, fields(account = %f.account, region = %f.region, function = %f))]
    async fn read_once(
        &self,
        f: &FunctionRef,
        local: &AccountSession,
    ) -> (FunctionState, Option<FunctionReadError>) {
        let unknown = |e: FunctionReadError| {
            warn!(error = %chain(&e), "function not read; its paths are UNKNOWN");
            let state = FunctionState {
                mode: FunctionMode::Unknown(chain(&e)),
                role: None,
                otel: Default::default(),
            };
            (state, Some(e))
        };
        if let Some(why) = self.out_of_scope(&f.account) {
            return unknown(FunctionReadError::OutOfScope {
                function: f.arn(),
                account: f.account.clone(),
                why,
            });
        }
        let client = if f.account == local.account {
            local.lambda(f.region, &self.pacer)
        } else {
            let cell = self.session_cell(&f.account);
            let session = cell
                .get_or_init(|| async {
                    accounts::open_session(self.env, self.cfg, self.me, &f.account)
                        .await
                        .map(Arc::new)
                        .map_err(|e| chain(&e))
                })
                .await;
            match session {
                Ok(s) => s.lambda(f.region, &self.pacer),
                Err(why) => {
                    return unknown(FunctionReadError::NoSession {
                        function: f.arn(),
                        account: f.account.clone(),
                        why: why.clone(),
                    })
                }
            }
        };
        match configuration(&client, f).await {
            Ok(state) => {
                debug!(mode = state.mode.as_str(), "function read");
                (state, None)
            }
            Err(source) => unknown(FunctionReadError::Call {
                function: f.arn(),
                at: AccountRegion::new(f.account.clone(), f.region),
                source,
            }),
        }
    }
}

/// GetFunctionConfiguration of `f` (its qualifier included: a version or
/// alias has its own configuration). Unset tracing is PassThrough, Lambda's
/// default.
pub async fn configuration(
    client: &aws_sdk_lambda::Client,
    f: &FunctionRef,
) -> Result<FunctionState, aws_sdk_lambda::Error> {
    let out = client
        .get_function_configuration()
        .function_name(f.unqualified_arn())
        .set_qualifier(f.qualifier.clone())
        .send()
        .await
        .map_err(aws_sdk_lambda::Error::from)?;
    let mode = match out.tracing_config().and_then(|t| t.mode()) {
        Some(TracingMode::Active) => FunctionMode::Active,
        _ => FunctionMode::PassThrough,
    };
    // Only the two variables OpenTelemetry's notes need are read: no other
    // environment value is copied into a finding or a log.
    let variable = |name: &str| {
        out.environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get(name))
            .map(String::as_str)
    };
    let otel = crate::trace_path::Otel::from_parts(
        out.layers().iter().filter_map(|l| l.arn()),
        variable(crate::trace_path::EXEC_WRAPPER),
        variable(crate::trace_path::PROPAGATORS),
    );
    Ok(FunctionState {
        mode,
        role: out.role().map(str::to_owned),
        otel,
    })
}

/// Why a path fix was not made.
#[derive(Debug, thiserror::Error)]
pub enum FunctionFixError {
    /// Lambda refuses Active when the execution role may not write to
    /// X-Ray (only the console adds that permission).
    #[error("function {function}: Lambda refused Active tracing because its execution role lacks xray:PutTraceSegments; attach it and run again: {command}")]
    NoXrayPermission {
        function: String,
        command: String,
        #[source]
        source: aws_sdk_lambda::Error,
    },
    #[error("function {function}: lambda:{operation} failed")]
    Call {
        function: String,
        operation: &'static str,
        #[source]
        source: aws_sdk_lambda::Error,
    },
    #[error("function {function}: still {mode} after the update")]
    NotConfirmed { function: String, mode: String },
}

/// The exact command that gives `role_arn` the X-Ray permission.
pub fn attach_xray_command(role_arn: Option<&str>) -> String {
    let role = role_arn
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("<execution-role>");
    let partition = role_arn.and_then(|r| r.split(':').nth(1)).unwrap_or("aws");
    format!(
        "aws iam attach-role-policy --role-name {role} --policy-arn arn:{partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
    )
}

/// Sets `TracingConfig.Mode=Active` on the function `f` names unqualified
/// (only `$LATEST` can change: published versions are immutable), then
/// reads it back.
#[instrument(skip_all, fields(account = %f.account, region = %f.region, function = %f))]
pub async fn enable_active(
    client: &aws_sdk_lambda::Client,
    f: &FunctionRef,
    role: Option<&str>,
) -> Result<(), FunctionFixError> {
    let function = f.unqualified_arn();
    let sent = client
        .update_function_configuration()
        .function_name(&function)
        .tracing_config(TracingConfig::builder().mode(TracingMode::Active).build())
        .send()
        .await;
    if let Err(e) = sent {
        let source = aws_sdk_lambda::Error::from(e);
        let xray = matches!(
            source,
            aws_sdk_lambda::Error::InvalidParameterValueException(_)
        ) && source.message().is_some_and(|m| {
            m.contains("PutTraceSegments") || m.to_ascii_lowercase().contains("xray")
        });
        return Err(if xray {
            FunctionFixError::NoXrayPermission {
                function,
                command: attach_xray_command(role),
                source,
            }
        } else {
            FunctionFixError::Call {
                function,
                operation: "UpdateFunctionConfiguration",
                source,
            }
        });
    }
    let latest = FunctionRef {
        qualifier: None,
        ..f.clone()
    };
    match configuration(client, &latest).await {
        Ok(s) if s.mode == FunctionMode::Active => Ok(()),
        Ok(s) => Err(FunctionFixError::NotConfirmed {
            function,
            mode: s.mode.as_str().to_owned(),
        }),
        Err(source) => Err(FunctionFixError::Call {
            function,
            operation: "GetFunctionConfiguration",
            source,
        }),
    }
}

/// A fix's failure as a report entry.
impl From<&FunctionFixError> for ErrorEntry {
    fn from(e: &FunctionFixError) -> Self {
        let code = match e {
            FunctionFixError::NoXrayPermission { source, .. }
            | FunctionFixError::Call { source, .. } => source.code().map(str::to_owned),
            FunctionFixError::NotConfirmed { .. } => None,
        };
        Self {
            code,
            ..Self::new(ErrorKind::FunctionRemediation, None, None, chain(e))
        }
    }
}

/// The session a fix writes through: the remediation role in the
/// function's account (the caller's own credentials in its own).
pub async fn fix_session(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    account: &AccountId,
) -> Result<AccountSession, accounts::AccountsError> {
    accounts::open_session_as(env, cfg, me, account, &cfg.remediation.role_name).await
}
