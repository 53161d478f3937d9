//! The parsers of setting values: each trims what it is given, and names what it expected.

use std::time::Duration;

use clap::{Command, builder::TypedValueParser};
use ipnet::IpNet;

use crate::infra::ratelimit::{Bucket, Rate};

/// Any `FromStr` value, surrounding whitespace ignored.
pub(super) fn trimmed<T: std::str::FromStr>(raw: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    raw.trim().parse().map_err(|e: T::Err| e.to_string())
}

/// Trims the value before another parser sees it (keeps that parser's possible values).
#[derive(Clone)]
pub(super) struct Trimmed<P>(pub(super) P);

impl<P: TypedValueParser> TypedValueParser for Trimmed<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        match value.to_str() {
            Some(s) => self.0.parse_ref(cmd, arg, std::ffi::OsStr::new(s.trim())),
            None => self.0.parse_ref(cmd, arg, value),
        }
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// A rate such as `5/60`, or `off` (`None`).
#[derive(Clone, Copy)]
pub(in crate::config) struct RateSetting(pub(in crate::config) Option<Rate>);

pub(super) fn rate(raw: &str) -> Result<RateSetting, String> {
    match raw.trim() {
        "off" => Ok(RateSetting(None)),
        raw => raw.parse().map(|rate| RateSetting(Some(rate))),
    }
}

/// A cost budget such as `1000,50`, or `off` (`None`).
#[derive(Clone, Copy)]
pub(in crate::config) struct BucketSetting(pub(in crate::config) Option<Bucket>);

pub(super) fn bucket(raw: &str) -> Result<BucketSetting, String> {
    match raw.trim() {
        "off" => Ok(BucketSetting(None)),
        raw => raw.parse().map(|bucket| BucketSetting(Some(bucket))),
    }
}

/// `PUBLIC_ORIGIN`: origins (`scheme://host[:port]`), comma-separated, kept normalized.
#[derive(Clone)]
pub(in crate::config) struct PublicOrigins(pub(in crate::config) Vec<String>);

pub(super) fn public_origins(raw: &str) -> Result<PublicOrigins, String> {
    let origins = raw
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            crate::config::normalize_origin(item).ok_or_else(|| {
                format!("`{item}` is not an origin such as https://zebrat.example.com")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if origins.is_empty() {
        return Err("expected at least one origin".into());
    }
    Ok(PublicOrigins(origins))
}

/// A comma-separated list; blank entries are skipped.
fn list<T: std::str::FromStr>(raw: &str) -> Result<Vec<T>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| item.parse().map_err(|_| format!("invalid entry `{item}`")))
        .collect()
}

/// `TRUSTED_PROXIES`: CIDR blocks (`10.0.0.0/8`) or single addresses (`::1`).
#[derive(Clone)]
pub(in crate::config) struct TrustedProxies(pub(in crate::config) Vec<IpNet>);

pub(super) fn trusted_proxies(raw: &str) -> Result<TrustedProxies, String> {
    let proxies = list::<TrustedProxy>(raw)?;
    Ok(TrustedProxies(proxies.into_iter().map(|p| p.0).collect()))
}

/// A `TRUSTED_PROXIES` entry: a CIDR block (`10.0.0.0/8`) or one address (`::1`).
struct TrustedProxy(IpNet);

impl std::str::FromStr for TrustedProxy {
    type Err = ipnet::AddrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<std::net::IpAddr>() {
            Ok(addr) => Ok(TrustedProxy(IpNet::from(addr))),
            Err(_) => s.parse().map(TrustedProxy),
        }
    }
}

/// `CORS_ALLOWED_ORIGINS`: `*`, or a list of origins.
#[derive(Clone)]
pub(in crate::config) enum CorsOrigins {
    Any,
    List(Vec<String>),
}

pub(super) fn cors_origins(raw: &str) -> Result<CorsOrigins, String> {
    match raw.trim() {
        "*" => Ok(CorsOrigins::Any),
        raw => list(raw).map(CorsOrigins::List),
    }
}

pub(super) fn positive_secs(raw: &str) -> Result<Duration, String> {
    match trimmed::<f64>(raw)? {
        secs if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err("must be a positive number of seconds".into()),
    }
}

pub(super) fn positive_count(raw: &str) -> Result<usize, String> {
    match trimmed::<usize>(raw)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

pub(super) fn non_negative(raw: &str) -> Result<f64, String> {
    match trimmed::<f64>(raw)? {
        value if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err("must be zero or more".into()),
    }
}

pub(super) fn fraction(raw: &str) -> Result<f64, String> {
    match trimmed::<f64>(raw)? {
        value if value.is_finite() && value > 0.0 && value < 1.0 => Ok(value),
        _ => Err("must be between 0 and 1".into()),
    }
}

/// A fraction that may be zero (which turns its feature off).
pub(super) fn zero_to_one(raw: &str) -> Result<f64, String> {
    match trimmed::<f64>(raw)? {
        value if value.is_finite() && (0.0..1.0).contains(&value) => Ok(value),
        _ => Err("must be 0 or more and below 1".into()),
    }
}
