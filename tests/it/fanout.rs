//! Fan-out through moto's SQS: a scheduled run plans, the real messages are
//! received and turned into the SQS event the function consumes.

use apigw_tracing::lambda::Handler;
use serde_json::{json, Value};

use crate::events::{fixture, sqs_record};
use crate::proxy::{assume_role_in, Fault, FaultProxy};
use crate::support::*;

/// Receives every message of the queue, as Lambda's SQS poller would, and
/// builds the records of the event it would send.
async fn receive_all(sqs: &aws_sdk_sqs::Client, queue_url: &str, queue_arn: &str) -> Vec<Value> {
    let mut records = Vec::new();
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .send()
            .await
            .unwrap();
        let msgs = out.messages();
        if msgs.is_empty() {
            break;
        }
        for m in msgs {
            let mut r = sqs_record(m.message_id().unwrap(), m.body().unwrap());
            r["receiptHandle"] = json!(m.receipt_handle());
            r["md5OfBody"] = json!(m.md5_of_body());
            r["eventSourceARN"] = json!(queue_arn);
            r["awsRegion"] = json!("us-east-1");
            r["attributes"] = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                                     "SenderId": MANAGEMENT, "ApproximateFirstReceiveTimestamp": "1795000000000"});
            records.push(r);
        }
    }
    records
}

#[tokio::test]
async fn a_scheduled_run_plans_and_queue_batches_scan_reporting_only_what_failed() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint);
    let members = create_org(&moto, 12).await;
    let mut accounts = vec![MANAGEMENT.to_owned()];
    accounts.extend(members.iter().cloned());
    one_failing_stage_each(&moto, &accounts, "eu-west-1").await;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config("us-east-1").await);
    let queue_url = sqs
        .create_queue()
        .queue_name("apigw-tracing-scan")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{MANAGEMENT}:apigw-tracing-scan");

    let cfg = config(&[
        "--regions",
        "eu-west-1",
        "--queue-url",
        &queue_url,
        "--fan-out-above",
        "5",
        "--apigw-rps",
        "50",
    ]);
    let handler = Handler::new(moto.env_via(&proxy.endpoint, &cfg).await, cfg);

    // The schedule only plans: 13 accounts > 5, one message each, 10 per call.
    let plan = invoke(&handler, fixture("scheduler-scheduled.json"))
        .await
        .unwrap();
    assert_eq!(plan["fan_out"]["accounts_queued"], 13, "{plan:#}");
    assert_eq!(plan["fan_out"]["accounts_not_queued"], 0);
    assert_eq!(plan["status"], "complete");
    assert_eq!(plan["results"].as_array().unwrap().len(), 0);
    assert_eq!(plan["requests"]["SQS.SendMessageBatch"]["calls"], 2);
    for a in &accounts {
        assert!(
            findings(&moto, a, "eu-west-1").await.is_empty(),
            "planning scans nothing"
        );
    }

    let mut records = receive_all(&sqs, &queue_url, &queue_arn).await;
    assert_eq!(records.len(), 13);
    let bodies: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    for b in &bodies {
        assert_eq!(b["regions"], json!(["eu-west-1"]));
        assert_eq!(b["accounts"].as_array().unwrap().len(), 1);
    }
    let broken = members[3].clone();
    let broken_id = records
        .iter()
        .zip(&bodies)
        .find(|(_, b)| b["accounts"][0] == broken.as_str())
        .map(|(r, _)| r["messageId"].as_str().unwrap().to_owned())
        .unwrap();
    proxy.add(assume_role_in(&broken), Fault::sts_access_denied(), None);
    let mut poison = records[0].clone();
    poison["messageId"] = json!("poison-1");
    poison["body"] = json!("{\"acounts\": [\"123\"]}");
    records.push(poison);

    // Lambda's poller sends batches of at most 10; do the same.
    let mut failures = Vec::new();
    for batch in records.chunks(10) {
        let resp = invoke(&handler, json!({"Records": batch})).await.unwrap();
        for f in resp["batchItemFailures"].as_array().unwrap() {
            failures.push(f["itemIdentifier"].as_str().unwrap().to_owned());
        }
    }
    failures.sort();
    let mut want = vec![broken_id, "poison-1".to_owned()];
    want.sort();
    assert_eq!(
        failures, want,
        "only the failed account's message and the poison one go back to the queue"
    );
    for a in &accounts {
        let landed = findings(&moto, a, "eu-west-1").await.len();
        assert_eq!(landed, usize::from(*a != broken), "{a}");
    }

    // A scoped manual rescan below the threshold scans directly.
    let direct = invoke(
        &handler,
        json!({"accounts": [members[0]], "regions": ["eu-west-1"]}),
    )
    .await
    .unwrap();
    assert!(direct.get("fan_out").is_none(), "{direct:#}");
    assert_eq!(direct["totals"]["account_regions"], 1);
}
