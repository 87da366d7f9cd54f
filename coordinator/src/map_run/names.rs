//! Names and ARNs of a Map Run and its children, formed as AWS forms them (spec §3.4):
//! `…:mapRun:<stateMachine>/<label>:<mapRunId>`, `…:stateMachine:<stateMachine>/<label>` and
//! `…:execution:<stateMachine>/<label>:<childName>`.

use shared::asl::eval::ExecutionOptions;
use shared::asl::eval::map_run::generated_label;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct RunNames {
    pub label: String,
    pub map_run_id: String,
    pub map_run_arn: String,
    /// `<stateMachine>/<label>`: the children's state machine name.
    pub child_state_machine_name: String,
    pub child_state_machine_arn: String,
    region: String,
    account: String,
    id: Uuid,
}

impl RunNames {
    /// `label` is the state's `Label`; without one, AWS generates one: dmap uses the state's
    /// name with the characters a label may not hold removed, so runs stay readable.
    pub fn new(parent: &ExecutionOptions, state_name: &str, label: Option<&str>) -> Self {
        RunNames::with_id(parent, state_name, label, &Uuid::new_v4().to_string())
    }

    /// Names of a Map Run whose id is chosen by the caller (`--resume ID`): the children's
    /// names derive from it, so a resumed run names its children as the interrupted one did.
    pub fn with_id(parent: &ExecutionOptions, state_name: &str, label: Option<&str>, map_run_id: &str) -> Self {
        let label = label.map(str::to_string).unwrap_or_else(|| generated_label(state_name));
        let id =
            Uuid::parse_str(map_run_id).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_URL, map_run_id.as_bytes()));
        let map_run_id = map_run_id.to_string();
        let (region, account) = (parent.region.clone(), parent.account.clone());
        let sm = &parent.state_machine_name;
        RunNames {
            map_run_arn: shared::asl::eval::map_run::map_run_arn(parent, &label, &map_run_id),
            child_state_machine_name: format!("{sm}/{label}"),
            child_state_machine_arn: format!("arn:aws:states:{region}:{account}:stateMachine:{sm}/{label}"),
            label,
            map_run_id,
            region,
            account,
            id,
        }
    }

    /// A child's name: a UUID derived from the Map Run and the batch index, so that a batch
    /// delivered twice keeps its name.
    pub fn child_name(&self, batch: u64) -> String {
        Uuid::new_v5(&self.id, &batch.to_be_bytes()).to_string()
    }

    pub fn child_execution_arn(&self, child_name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{}:{child_name}",
            self.region, self.account, self.child_state_machine_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_aws_layout() {
        let parent = ExecutionOptions { state_machine_name: "csvProcess".into(), ..Default::default() };
        let n = RunNames::new(&parent, "Map state", Some("Map"));
        assert!(n.map_run_arn.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:csvProcess/Map:"));
        assert_eq!(n.child_state_machine_arn, "arn:aws:states:us-east-1:123456789012:stateMachine:csvProcess/Map");
        let child = n.child_name(7);
        assert_eq!(child, n.child_name(7));
        assert_ne!(child, n.child_name(8));
        assert_eq!(
            n.child_execution_arn(&child),
            format!("arn:aws:states:us-east-1:123456789012:execution:csvProcess/Map:{child}")
        );
        assert_eq!(RunNames::new(&parent, "Map state: {x}", None).label, "Mapstatex");
    }
}
