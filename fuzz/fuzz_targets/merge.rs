//! (e) The merge: a scenario of distinct events (Zoom's published bodies readdressed,
//! retimed and with fields changed; Flow bodies; any bodies) merged into engagement and agent
//! records gives the same records whatever the order they arrive in: as given, reversed, and
//! in an order the input chooses. Never a panic; each record reads back from its own JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zcc_domain::agent::AgentState;
use zcc_domain::engagement::EngagementState;
use zcc_fuzz::{Records, Scenario, bodies, without_known_issues};

fuzz_target!(|scenario: Scenario| {
    let events = scenario.events();
    let given = Records::merge(&events);
    let expected = without_known_issues(given.to_value(), &events);
    let mut reversed = events.clone();
    reversed.reverse();
    let shuffled = scenario.shuffled(&events);
    for (name, order) in [("reversed", &reversed), ("shuffled", &shuffled)] {
        let got = without_known_issues(Records::merge(order).to_value(), &events);
        assert!(
            got == expected,
            "{name} order gives other records\nin order:\n{}{name}:\n{}given: {expected:#}\n{name}: {got:#}",
            bodies(&events),
            bodies(order),
        );
    }
    for state in given.engagements.values() {
        let json = serde_json::to_value(state).expect("serializes");
        let back: EngagementState = serde_json::from_value(json.clone()).expect("reads back");
        assert_eq!(serde_json::to_value(&back).expect("serializes"), json);
    }
    for state in given.agents.values() {
        let json = serde_json::to_value(state).expect("serializes");
        let back: AgentState = serde_json::from_value(json.clone()).expect("reads back");
        assert_eq!(serde_json::to_value(&back).expect("serializes"), json);
    }
});
