//! S3's Object Created event, as EventBridge hands it to forward and notify, and their answer
//! to any other event.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cairn_shared::trigger::{self, Trigger, TriggerError};
use lambda_runtime::tracing;
use serde::Serialize;

/// The answer to an event that asks nothing of the function:
/// `{"outcome":"ignored","ignoredBecause":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename = "ignored", rename_all = "camelCase")]
pub struct Ignored {
    pub ignored_because: String,
}

/// What `event` asks; an event other than S3's Object Created is logged with the reason it
/// asks nothing.
pub fn read(event: &EventBridgeEvent) -> Result<Trigger, TriggerError> {
    let trigger = trigger::from_eventbridge(&event.detail_type, &event.source, &event.detail)?;
    if let Trigger::Ignored(reason) = &trigger {
        tracing::info!(%reason, "not an S3 Object Created event; nothing to do");
    }
    Ok(trigger)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_ignored_event_answers_with_its_reason() {
        let answer = Ignored {
            ignored_because: "a schedule".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(answer).expect("json"),
            json!({"outcome": "ignored", "ignoredBecause": "a schedule"})
        );
    }

    #[test]
    fn a_schedule_tick_is_ignored_and_an_object_created_event_names_its_object() {
        let schedule: EventBridgeEvent = serde_json::from_value(json!({
            "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}
        }))
        .expect("event");
        assert!(matches!(read(&schedule), Ok(Trigger::Ignored(_))));

        let created: EventBridgeEvent = serde_json::from_value(json!({
            "detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "trail"}, "object": {"key": "a+b.json.gz"}}
        }))
        .expect("event");
        let Ok(Trigger::ObjectCreated(object)) = read(&created) else {
            panic!("an Object Created event")
        };
        assert_eq!(
            (object.bucket.as_str(), object.key.as_str()),
            ("trail", "a b.json.gz")
        );
    }
}
