//! Which accounts to scan (Organizations or a fixed list) and how to reach
//! each one: the scanner's own credentials for its own account, an assumed
//! role everywhere else.

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, instrument};

use super::{AccountSession, AwsEnv, RequestStats};
use crate::report::{chain, ErrorEntry, ErrorKind};

const ASSUME_ROLE: &str = "STS.AssumeRole";
use crate::config::Config;
use crate::model::{AccountId, Partition};

pub use crate::model::Identity;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("sts:GetCallerIdentity failed; are AWS credentials configured?")]
    CallerIdentity(#[source] aws_sdk_sts::Error),
    #[error("sts:GetCallerIdentity returned no usable account id ({0:?})")]
    NoAccount(Option<String>),
    #[error("organizations:ListAccounts failed; run in the management or a delegated administrator account, or list the accounts to scan (APIGW_TRACING_ACCOUNTS)")]
    ListAccounts(#[source] aws_sdk_organizations::Error),
    #[error("account {account}: cannot assume {role_arn}")]
    AssumeRole {
        account: AccountId,
        role_arn: String,
        #[source]
        source: CredentialsError,
    },
}

impl AccountsError {
    /// The AWS error code behind this error, when AWS gave one.
    pub fn code(&self) -> Option<String> {
        match self {
            Self::CallerIdentity(e) => e.code().map(str::to_owned),
            Self::ListAccounts(e) => e.code().map(str::to_owned),
            Self::AssumeRole { source, .. } => sts_code(source),
            Self::NoAccount(_) => None,
        }
    }
}

/// An account that could not be reached (or, with no account, a run that
/// could not be planned).
impl From<&AccountsError> for ErrorEntry {
    fn from(e: &AccountsError) -> Self {
        let account = match e {
            AccountsError::AssumeRole { account, .. } => Some(account),
            _ => None,
        };
        Self {
            code: e.code(),
            ..Self::new(ErrorKind::AssumeRole, account, None, chain(e))
        }
    }
}

/// Digs the STS error code (AccessDenied, ...) out of a credentials error.
fn sts_code(err: &CredentialsError) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(sdk) = e.downcast_ref::<aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>>() {
            return sdk.code().map(str::to_owned);
        }
        cur = e.source();
    }
    None
}

/// Who the scanner runs as: asked once per execution environment (the
/// function's role does not change), then answered from `env`'s cache, so
/// a warm Lambda spends no STS call on it per invocation or per run.
pub async fn caller_identity(env: &AwsEnv) -> Result<Identity, AccountsError> {
    env.identity
        .get_or_try_init(|| ask_identity(env))
        .await
        .cloned()
}

#[instrument(skip_all)]
async fn ask_identity(env: &AwsEnv) -> Result<Identity, AccountsError> {
    let out = env
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AccountsError::CallerIdentity(e.into()))?;
    let account = out
        .account()
        .and_then(|a| AccountId::parse(a).ok())
        .ok_or_else(|| AccountsError::NoAccount(out.account().map(str::to_owned)))?;
    let arn = out.arn().unwrap_or_default().to_owned();
    let partition = arn
        .split(':')
        .nth(1)
        .and_then(Partition::parse)
        .unwrap_or(Partition::Aws);
    Ok(Identity {
        account,
        arn,
        partition,
    })
}

/// Every ACTIVE account of the organization, all pages.
#[instrument(skip_all)]
pub async fn organization_accounts(env: &AwsEnv) -> Result<Vec<AccountId>, AccountsError> {
    let mut pages = env.organizations().list_accounts().into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AccountsError::ListAccounts(e.into()))?;
        for acct in page.accounts() {
            // `State` supersedes `Status` (deprecated 2025); accept either.
            let active = match (acct.state(), acct.status()) {
                (Some(state), _) => *state == AccountState::Active,
                (None, Some(status)) => *status == AccountStatus::Active,
                (None, None) => false,
            };
            let Some(id) = acct.id().and_then(|i| AccountId::parse(i).ok()) else {
                continue;
            };
            if active {
                out.push(id);
            } else {
                debug!(account = %id, "skipping account that is not ACTIVE");
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Credentials for `account`: the scanner's own for its own account, the
/// scan role otherwise. The role is assumed here, once, so that a refusal
/// is reported as this account's failure before any scan work starts.
#[instrument(skip_all, fields(account = %account))]
pub async fn open_session(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    account: &AccountId,
) -> Result<AccountSession, AccountsError> {
    open_session_as(env, cfg, me, account, &cfg.assume.role_name).await
}

/// The same with another member role (remediation writes through its own,
/// separate role; the scan role stays read-only).
pub async fn open_session_as(
    env: &AwsEnv,
    cfg: &Config,
    me: &Identity,
    account: &AccountId,
    role_name: &str,
) -> Result<AccountSession, AccountsError> {
    if *account == me.account {
        return Ok(env.session(account.clone(), env.base.clone()));
    }
    let role_arn = format!("arn:{}:iam::{}:role/{}", me.partition, account, role_name);
    let mut builder =
        AssumeRoleProvider::builder(role_arn.clone()).session_name(cfg.assume.session_name.clone());
    if let Some(ext) = &cfg.assume.external_id {
        builder = builder.external_id(ext.clone());
    }
    // `configure` makes the STS call inherit endpoint, HTTP client, retry
    // and timeout settings from the scanner's own configuration.
    let provider = builder.configure(&env.base).build().await;
    env.stats.record_call(ASSUME_ROLE);
    let first =
        provider
            .provide_credentials()
            .await
            .map_err(|source| AccountsError::AssumeRole {
                account: account.clone(),
                role_arn: role_arn.clone(),
                source,
            })?;
    let creds = SharedAssumedRole {
        current: tokio::sync::Mutex::new(first),
        refresh: provider,
        stats: env.stats.clone(),
    };
    // An identity cache of the account's own: it goes away with the
    // session, so cached credentials do not pile up over thousands of
    // accounts in the process-wide cache.
    let sdk = env
        .base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .build();
    Ok(env.session(account.clone(), sdk))
}

/// Assumed-role credentials shared by every client of one account: handed
/// out while valid, refreshed through the SDK's AssumeRoleProvider (one call
/// at a time) when fewer than `REFRESH_BEFORE` remain. The SDK's identity
/// cache is not shared by every client an account builds, so without this
/// each region's clients would assume the role again.
#[derive(Debug)]
struct SharedAssumedRole {
    current: tokio::sync::Mutex<Credentials>,
    refresh: AssumeRoleProvider,
    stats: RequestStats,
}

/// Assumed-role sessions last an hour; renew well before the end.
const REFRESH_BEFORE: std::time::Duration = std::time::Duration::from_secs(300);

impl SharedAssumedRole {
    async fn get(&self) -> Result<Credentials, CredentialsError> {
        let mut current = self.current.lock().await;
        let fresh = current
            .expiry()
            .is_none_or(|t| t > std::time::SystemTime::now() + REFRESH_BEFORE);
        if !fresh {
            self.stats.record_call(ASSUME_ROLE);
            *current = self.refresh.provide_credentials().await?;
        }
        Ok(current.clone())
    }
}

impl ProvideCredentials for SharedAssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}
