use serde_json::json;

use super::*;
use crate::report::chain;
use crate::testkit::{fixture, sqs_record as record};

fn refusal(event: &Value) -> String {
    chain(&parse_event(event).unwrap_err())
}

#[test]
fn both_kinds_of_schedule_scan_everything() {
    for (file, source) in [
        ("eventbridge-rule-scheduled.json", "aws.events"),
        ("scheduler-scheduled.json", "aws.scheduler"),
    ] {
        let req = parse_event(&fixture(file)).unwrap();
        assert_eq!(
            req.trigger,
            Trigger::Schedule {
                source: source.into()
            }
        );
        assert_eq!(
            (req.accounts, req.regions, req.dry_run),
            (None, None, false)
        );
    }
}

#[test]
fn manual_payload_scopes_the_run() {
    let req = parse_event(&fixture("manual-scoped.json")).unwrap();
    assert_eq!(req.trigger, Trigger::Manual);
    assert_eq!(req.accounts.unwrap()[0].as_str(), "111111111111");
    assert_eq!(req.regions.unwrap(), ["eu-west-1"]);
    assert!(req.dry_run);
    let all = parse_event(&json!({})).unwrap();
    assert_eq!(
        (all.accounts, all.regions, all.dry_run),
        (None, None, false)
    );
}

#[test]
fn bad_events_are_rejected_with_a_clear_message() {
    let cases = [
        (json!(null), "must be a JSON object, got null"),
        (json!([1]), "got an array"),
        (
            json!({"acounts": ["111111111111"]}),
            "unknown field `acounts`",
        ),
        (
            json!({"accounts": "111111111111"}),
            "malformed manual payload",
        ),
        (json!({"accounts": []}), "\"accounts\" is an empty list"),
        (json!({"regions": []}), "\"regions\" is an empty list"),
        (
            json!({"accounts": ["1234"]}),
            "invalid AWS account id \"1234\"",
        ),
        (
            json!({"regions": ["moon-1"]}),
            "\"moon-1\" is not a region name",
        ),
        (json!({"regions": ["eu-west-7"]}), "not a known AWS region"),
        (json!({"dryRun": "yes"}), "malformed manual payload"),
        (
            json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}),
            "unsupported EventBridge event",
        ),
        (
            json!({"detail-type": "Scheduled Event"}),
            "malformed EventBridge event",
        ),
    ];
    for (event, want) in cases {
        let err = refusal(&event);
        assert!(err.contains(want), "{event}: {err}");
    }
}

#[test]
fn ambiguous_payloads_are_refused() {
    let mut scheduled_with_scope = fixture("eventbridge-rule-scheduled.json");
    scheduled_with_scope["accounts"] = json!(["111111111111"]);
    scheduled_with_scope["dryRun"] = json!(true);
    let cases = [
        (
            scheduled_with_scope,
            "scheduled event with field(s) a schedule does not send: \"accounts\", \"dryRun\"",
        ),
        (
            json!({"dryRun": null}),
            "invalid type: null, expected a boolean",
        ),
        (
            json!({"accounts": null}),
            "invalid type: null, expected a sequence",
        ),
        (json!({"regions": null}), "invalid type: null"),
        (
            json!({"accounts": [""]}),
            "\"accounts\" holds a blank entry",
        ),
        (
            json!({"accounts": [" ", ""]}),
            "\"accounts\" holds a blank entry",
        ),
        (
            json!({"regions": ["eu-west-1", " "]}),
            "\"regions\" holds a blank entry",
        ),
    ];
    for (event, want) in cases {
        let err = refusal(&event);
        assert!(err.contains(want), "{event}: {err}");
    }
}

#[test]
fn a_huge_input_is_not_echoed_back() {
    let huge = "x".repeat(5 * 1024 * 1024);
    for event in [
        json!({"regions": [format!("eu-{huge}-1")]}),
        json!({"accounts": [huge.clone()]}),
        json!({"dryRun": huge.clone()}),
        Value::Object([(huge.clone(), json!(1))].into_iter().collect()),
        json!({"detail-type": huge.clone(), "source": "aws.events", "detail": {}}),
    ] {
        let err = refusal(&event);
        assert!(err.len() < 600, "{} bytes: {}", err.len(), &err[..300]);
        // Each cause once: the input appears in one place only.
        let runs = err.split(|c| c != 'x').filter(|r| r.len() >= 10).count();
        assert_eq!(runs, 1, "{err}");
    }
}

mod queue {
    use super::*;

    fn items(event: Value) -> Result<Vec<QueueItem>, TriggerError> {
        match parse_invocation(&event)? {
            Invocation::Queue(ev) => queue_items(&ev),
            other => panic!("not a queue batch: {other:?}"),
        }
    }

    #[test]
    fn queue_batches_keep_each_message_apart() {
        let items = items(json!({"Records": [
            record("m1", r#"{"accounts": ["111111111111"], "regions": ["eu-west-1"]}"#),
            record("m2", "not json"),
            record("m3", r#"{"regions": ["eu-west-1"]}"#),
            record("m4", r#"{"accounts": ["222222222222"], "dryRun": true, "extra": 1}"#),
        ]}))
        .unwrap();
        let ids: Vec<_> = items.iter().map(|i| i.message_id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
        let Ok(QueueRequest::Scan(ok)) = items[0].request.as_ref() else {
            panic!("{:?}", items[0].request)
        };
        assert_eq!(
            (
                ok.trigger.clone(),
                ok.accounts.as_ref().unwrap()[0].as_str()
            ),
            (Trigger::Queue, "111111111111")
        );
        for (i, want) in [
            (1, "body is not JSON"),
            (2, "names no account"),
            (3, "unknown field `extra`"),
        ] {
            let err = chain(items[i].request.as_ref().unwrap_err());
            assert!(
                err.contains(want) && err.contains(&format!("m{}", i + 1)),
                "{err}"
            );
        }
    }

    #[test]
    fn a_record_from_elsewhere_is_refused() {
        let mut r = record("m1", "{}");
        r["eventSource"] = json!("aws:sns");
        let err = items(json!({"Records": [r]})).unwrap_err().to_string();
        assert!(err.contains("not aws:sqs"), "{err}");
        assert!(parse_invocation(&json!({"Records": "x"}))
            .unwrap_err()
            .to_string()
            .contains("malformed SQS event"));
    }
}

#[test]
fn a_queue_body_with_a_duplicated_key_is_a_poison_message() {
    let body = r#"{"accounts": ["111111111111"], "dryRun": false, "dryRun": true}"#;
    let event: SqsEvent = serde_json::from_value(json!({"Records": [record("m1", body)]})).unwrap();
    let items = queue_items(&event).unwrap();
    let err = chain(items[0].request.as_ref().unwrap_err());
    assert!(err.contains("duplicate key \"dryRun\""), "{err}");
}
