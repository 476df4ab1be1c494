//! OpenTelemetry on a function behind a traced stage. AWS's own guides
//! still ask for `Tracing: Active` with the OpenTelemetry (ADOT) Lambda
//! layer, so the verdict does not change; what changes is what the finding
//! and `check` say: that the function runs OpenTelemetry, and whether its
//! propagators read the `X-Amzn-Trace-Id` API Gateway hands it (without
//! `xray` among them the trace splits at the function).

use serde::Serialize;

/// What a function's layers and two environment variables say (no other
/// environment value is ever read or kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Otel {
    /// An OpenTelemetry layer AWS publishes (`AWSOpenTelemetryDistro*`,
    /// `aws-otel-*`), or `AWS_LAMBDA_EXEC_WRAPPER` set to the layer's
    /// wrapper (`/opt/otel-instrument`, `/opt/otel-handler`).
    pub instrumented: bool,
    /// `OTEL_PROPAGATORS` as set (`None`: unset, the layer's default, which
    /// includes `xray`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagators: Option<String>,
}

/// The wrappers the ADOT layers install.
pub const OTEL_WRAPPERS: [&str; 2] = ["/opt/otel-instrument", "/opt/otel-handler"];
/// The environment variables read, and no other.
pub const EXEC_WRAPPER: &str = "AWS_LAMBDA_EXEC_WRAPPER";
pub const PROPAGATORS: &str = "OTEL_PROPAGATORS";

/// Whether a layer ARN (or name) is one of AWS's OpenTelemetry layers.
pub fn is_otel_layer(arn: &str) -> bool {
    // arn:aws:lambda:{region}:{account}:layer:{name}:{version}
    let name = arn.split(':').nth(6).unwrap_or(arn);
    name.starts_with("AWSOpenTelemetryDistro") || name.starts_with("aws-otel-")
}

impl Otel {
    /// From a function's layer ARNs and the two variables (when set).
    pub fn from_parts<'a>(
        layers: impl IntoIterator<Item = &'a str>,
        wrapper: Option<&str>,
        propagators: Option<&str>,
    ) -> Self {
        let layer = layers.into_iter().any(is_otel_layer);
        let wrapped = wrapper.is_some_and(|w| OTEL_WRAPPERS.contains(&w.trim()));
        Self {
            instrumented: layer || wrapped,
            propagators: propagators.map(|p| crate::model::cut(p.trim())),
        }
    }

    /// OpenTelemetry with propagators that leave out `xray`: API Gateway
    /// hands the function an `X-Amzn-Trace-Id` only, so the trace splits.
    pub fn splits(&self) -> bool {
        self.instrumented
            && self
                .propagators
                .as_deref()
                .is_some_and(|p| !p.split(',').any(|x| x.trim().eq_ignore_ascii_case("xray")))
    }

    /// What to say of the function, if anything.
    pub fn note(&self, function: &str) -> Option<String> {
        match (self.instrumented, self.splits()) {
            (false, _) => None,
            (true, true) => Some(format!(
                "{function} runs OpenTelemetry, and its OTEL_PROPAGATORS ({}) leaves out xray: API Gateway hands it an X-Amzn-Trace-Id only, so the trace splits there (add xray)",
                self.propagators.as_deref().unwrap_or_default()
            )),
            (true, false) => Some(format!(
                "{function} runs OpenTelemetry (AWS's ADOT layer); AWS's guides still ask for Active tracing with it"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_the_wrapper_say_opentelemetry_and_propagators_say_whether_it_splits() {
        let adot = "arn:aws:lambda:eu-west-1:615299751070:layer:AWSOpenTelemetryDistroPython:5";
        let community =
            "arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-nodejs-amd64-ver-1-18-1:4";
        let other = "arn:aws:lambda:eu-west-1:111111111111:layer:otel-homemade:1";
        assert!(Otel::from_parts([adot], None, None).instrumented);
        assert!(Otel::from_parts([community], None, None).instrumented);
        assert!(!Otel::from_parts([other], None, None).instrumented);
        assert!(Otel::from_parts([other], Some("/opt/otel-handler"), None).instrumented);
        // Unset propagators: the layer's default includes xray.
        assert!(!Otel::from_parts([adot], None, None).splits());
        assert!(!Otel::from_parts([adot], None, Some("tracecontext,baggage,xray")).splits());
        let split = Otel::from_parts([adot], None, Some("tracecontext,baggage"));
        assert!(split.splits());
        assert!(split.note("orders").unwrap().contains("leaves out xray"));
        // Not OpenTelemetry: nothing to say, whatever the variable.
        let plain = Otel::from_parts([other], None, Some("tracecontext"));
        assert_eq!((plain.splits(), plain.note("x")), (false, None));
    }
}
