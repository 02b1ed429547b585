//! A generated day of engagements with known figures: queues, agents, abandons, transfers,
//! holds, wrap-ups and late dispositions, as the webhooks Zoom would send (in its published
//! shapes), and the figures computed straight from the plan, not through the model, so that
//! the report (and the Athena queries) can be checked against them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use zcc_domain::published;
use zcc_domain::report::{Figures, GroupBy};
use zcc_domain::timestamp::Timestamp;

const QUEUES: [(&str, &str); 3] = [
    ("q-sales", "Sales"),
    ("q-billing", "Billing"),
    ("q-support", "Support"),
];
const AGENTS: [(&str, &str); 4] = [
    ("u-ana", "Ana Agent"),
    ("u-bo", "Bo Builder"),
    ("u-cy", "Cy Chen"),
    ("u-di", "Di Diaz"),
];
const CHANNELS: [&str; 2] = ["voice", "video"];

/// One engagement as planned: everything its figures follow from.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: String,
    pub start: Timestamp,
    pub channel: &'static str,
    pub queue: usize,
    /// `None`: abandoned in the queue after `wait_s`.
    pub answer: Option<Answer>,
    pub wait_s: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub agent: usize,
    /// (seconds after the answer, duration in seconds).
    pub holds: Vec<(i64, i64)>,
    pub talk_s: i64,
    pub wrap_s: i64,
    /// Transferred to (queue, agent) mid-talk.
    pub transfer: Option<(usize, usize)>,
    pub late_disposition: bool,
}

impl Plan {
    fn hold_s(&self) -> i64 {
        self.answer
            .as_ref()
            .map_or(0, |a| a.holds.iter().map(|(_, d)| d).sum())
    }

    /// The queue and agent it ends with.
    fn final_queue_and_agent(&self) -> (usize, Option<usize>) {
        match &self.answer {
            None => (self.queue, None),
            Some(a) => match a.transfer {
                Some((queue, agent)) => (queue, Some(agent)),
                None => (self.queue, Some(a.agent)),
            },
        }
    }

    fn key(&self, by: GroupBy) -> String {
        let (queue, agent) = self.final_queue_and_agent();
        match by {
            GroupBy::Queue => QUEUES[queue].0.to_owned(),
            GroupBy::Agent => agent.map_or("-".to_owned(), |a| AGENTS[a].0.to_owned()),
            GroupBy::Hour => self.start.to_iso()[11..13].to_owned(),
            GroupBy::Day => self.start.day(),
            GroupBy::Channel => self.channel.to_owned(),
        }
    }

    fn name(&self, by: GroupBy) -> Option<String> {
        let (queue, agent) = self.final_queue_and_agent();
        match by {
            GroupBy::Queue => Some(QUEUES[queue].1.to_owned()),
            GroupBy::Agent => agent.map(|a| AGENTS[a].1.to_owned()),
            _ => None,
        }
    }
}

/// A small, seeded generator: the same seed, the same day.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

pub struct GeneratedDay {
    pub day: String,
    pub plans: Vec<Plan>,
    /// The webhook bodies of every engagement, each engagement's in a shuffled order with one
    /// duplicate, engagements one after another.
    pub webhooks: Vec<String>,
}

pub use published::shaped;

/// `engagements` engagements starting between 08:00 and 17:59 UTC on `day`.
pub fn generate(day: &str, engagements: usize, seed: u64) -> GeneratedDay {
    let mut dice = Dice(seed.max(1));
    let midnight = Timestamp::parse(&format!("{day}T00:00:00.000Z")).expect("a day");
    let mut plans = Vec::with_capacity(engagements);
    for n in 0..engagements {
        let start = midnight.saturating_add_millis(
            (8 * 3600 + dice.below(10 * 3600) as i64) * 1000 + dice.below(1000) as i64,
        );
        let queue = dice.below(3) as usize;
        let abandoned = dice.below(100) < 15;
        let answer = (!abandoned).then(|| {
            let talk_s = dice.between(150, 900);
            // Holds 50 s apart, at most 40 s each: they never overlap, and end within the talk.
            let holds = (0..dice.below(3))
                .map(|h| (10 + h as i64 * 50, dice.between(5, 40)))
                .collect();
            Answer {
                agent: dice.below(4) as usize,
                holds,
                talk_s,
                wrap_s: dice.between(10, 120),
                transfer: (dice.below(100) < 12).then(|| ((queue + 1) % 3, dice.below(4) as usize)),
                late_disposition: dice.below(100) < 30,
            }
        });
        plans.push(Plan {
            id: format!("Gen{day}{n:07}").replace('-', ""),
            start,
            channel: CHANNELS[dice.below(2) as usize],
            queue,
            answer,
            wait_s: dice.between(2, 45),
        });
    }
    let mut webhooks = Vec::new();
    for plan in &plans {
        let mut bodies = bodies(plan);
        // Any order, one duplicate: the record must not care.
        for i in (1..bodies.len()).rev() {
            bodies.swap(i, dice.below(i as u64 + 1) as usize);
        }
        let again = bodies[dice.below(bodies.len() as u64) as usize].clone();
        bodies.push(again);
        webhooks.extend(bodies);
    }
    for (n, (user_id, name)) in AGENTS.iter().enumerate() {
        webhooks.extend(agent_day(midnight, n, user_id, name));
    }
    GeneratedDay {
        day: day.to_owned(),
        plans,
        webhooks,
    }
}

/// Agent `n`'s day, `n` × 10 minutes late: (time from midnight in minutes, status); the
/// login at 07:55 changes no status.
/// A status and its sub-status.
type Status = (&'static str, Option<&'static str>);

fn agent_timeline(n: usize) -> [(i64, Option<Status>); 5] {
    let late = n as i64 * 10;
    [
        (7 * 60 + 55 + late, None),
        (8 * 60 + late, Some(("Ready", None))),
        (12 * 60 + late, Some(("Not Ready", Some("Break")))),
        (12 * 60 + 30 + late, Some(("Ready", None))),
        (18 * 60 + 30 + late, Some(("Logged out", None))),
    ]
}

fn agent_day(midnight: Timestamp, n: usize, user_id: &str, name: &str) -> Vec<String> {
    let who = json!({"user_id": user_id, "display_name": name,
        "user_email": format!("{}@example.com", &user_id[2..])});
    agent_timeline(n)
        .iter()
        .map(|(minutes, status)| {
            let at = midnight.saturating_add_millis(minutes * 60_000);
            let (event, values) = match status {
                None => ("user_login", who.clone()),
                Some(("Logged out", _)) => ("user_logout", who.clone()),
                Some((status, sub)) => {
                    let mut v = who.clone();
                    v["current_status_name"] = json!(status);
                    v["current_status_id"] = json!("1");
                    v["current_sub_status_name"] = json!(sub);
                    v["current_sub_status_id"] = json!(sub.map(|_| "21"));
                    ("user_status_changed", v)
                }
            };
            shaped(event, "-", at, values).to_string()
        })
        .collect()
}

fn bodies(plan: &Plan) -> Vec<String> {
    let at = |s: f64| plan.start.saturating_add_millis((s * 1000.0) as i64);
    let (queue_id, queue_name) = QUEUES[plan.queue];
    let common = json!({"channel": plan.channel, "engagement_direction": "inbound",
        "cc_queue_id": queue_id, "queue_name": queue_name,
        "consumer_number": "+14155550123"});
    let with = |extra: Value| {
        let mut v = common.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let event =
        |name: &str, s: f64, values: Value| shaped(name, &plan.id, at(s), values).to_string();
    let mut out = vec![
        event("engagement_started", 0.0, with(json!({}))),
        event("task_entered_queue", 1.0, with(json!({}))),
    ];
    let answered = 1.0 + plan.wait_s as f64;
    let Some(a) = &plan.answer else {
        out.push(event("engagement_ended", answered, with(json!({}))));
        return out;
    };
    let (agent_id, agent_name) = AGENTS[a.agent];
    let agent = json!({"user_id": agent_id, "user_display_name": agent_name});
    out.push(event(
        "engagement_user_answered",
        answered,
        with(agent.clone()),
    ));
    for (after, duration) in &a.holds {
        let h = answered + *after as f64;
        out.push(event("engagement_user_hold", h, with(agent.clone())));
        out.push(event(
            "engagement_user_unhold",
            h + *duration as f64,
            with(agent.clone()),
        ));
    }
    let talk_end = answered + (a.talk_s + plan.hold_s()) as f64;
    if let Some((to_queue, to_agent)) = a.transfer {
        let (to_queue_id, to_queue_name) = QUEUES[to_queue];
        let (to_agent_id, to_agent_name) = AGENTS[to_agent];
        out.push(event(
            "engagement_transfer_accepted",
            talk_end - 5.0,
            with(json!({"user_id": agent_id, "task_id": format!("{}-t1", plan.id),
                "transfer_to_task_id": format!("{}-t2", plan.id),
                "transfer_to_cc_queue_id": to_queue_id, "transfer_to_queue_name": to_queue_name,
                "transfer_to_user_id": to_agent_id, "transfer_to_user_display_name": to_agent_name})),
        ));
    }
    out.push(event(
        "engagement_wrap_up_started",
        talk_end,
        with(json!({})),
    ));
    out.push(event("engagement_ended", talk_end + 0.5, with(json!({}))));
    out.push(event(
        "engagement_wrap_up_ended",
        talk_end + a.wrap_s as f64,
        with(json!({})),
    ));
    if a.late_disposition {
        out.push(event(
            "engagement_disposition_added",
            talk_end + a.wrap_s as f64 + 30.0,
            with(json!({"disposition_id": "d1", "disposition_name": "Resolved"})),
        ));
    }
    out
}

fn mean(values: &[i64]) -> Option<i64> {
    (!values.is_empty()).then(|| {
        let sum: i64 = values.iter().sum();
        let n = values.len() as i64;
        (2 * sum + n) / (2 * n)
    })
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

fn p90(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((v.len() as f64) * 0.9).ceil() as usize;
    (rank > 0).then(|| v[rank - 1])
}

impl GeneratedDay {
    /// Each agent's time in each status over the whole day, from its timeline alone.
    pub fn expected_time_in_status(&self) -> BTreeMap<String, BTreeMap<String, i64>> {
        let end_of_day = 24 * 60 * 60_000 - 1;
        AGENTS
            .iter()
            .enumerate()
            .map(|(n, (user_id, _))| {
                let changes: Vec<(i64, String)> = agent_timeline(n)
                    .iter()
                    .filter_map(|(m, status)| {
                        status.map(|(s, sub)| {
                            let label = sub.map_or(s.to_owned(), |sub| format!("{s} / {sub}"));
                            (m * 60_000, label)
                        })
                    })
                    .collect();
                let mut spent: BTreeMap<String, i64> = BTreeMap::new();
                for (i, (at, label)) in changes.iter().enumerate() {
                    let until = changes.get(i + 1).map_or(end_of_day, |(next, _)| *next);
                    *spent.entry(label.clone()).or_default() += until - at;
                }
                (user_id.to_string(), spent)
            })
            .collect()
    }

    /// The figures the day must have, grouped `by`, computed from the plans alone.
    pub fn expected(&self, by: GroupBy, sla_seconds: u32) -> Vec<Figures> {
        let mut groups: BTreeMap<String, Vec<&Plan>> = BTreeMap::new();
        for plan in &self.plans {
            groups.entry(plan.key(by)).or_default().push(plan);
        }
        groups
            .into_iter()
            .map(|(group, plans)| Self::of(group, &plans, Some(by), sla_seconds))
            .collect()
    }

    pub fn expected_total(&self, sla_seconds: u32) -> Figures {
        let plans: Vec<&Plan> = self.plans.iter().collect();
        Self::of("all".into(), &plans, None, sla_seconds)
    }

    fn of(group: String, plans: &[&Plan], by: Option<GroupBy>, sla_seconds: u32) -> Figures {
        let answered: Vec<(&Plan, &Answer)> = plans
            .iter()
            .filter_map(|p| p.answer.as_ref().map(|a| (*p, a)))
            .collect();
        let asa: Vec<i64> = answered
            .iter()
            .map(|(p, _)| (1 + p.wait_s) * 1000)
            .collect();
        let talk: Vec<i64> = answered.iter().map(|(_, a)| a.talk_s * 1000).collect();
        let hold: Vec<i64> = answered.iter().map(|(p, _)| p.hold_s() * 1000).collect();
        let wrap: Vec<i64> = answered.iter().map(|(_, a)| a.wrap_s * 1000).collect();
        let handle: Vec<i64> = answered
            .iter()
            .map(|(p, a)| (a.talk_s + p.hold_s() + a.wrap_s) * 1000)
            .collect();
        let offered = plans.len() as u64;
        let abandoned = offered - answered.len() as u64;
        let within = asa
            .iter()
            .filter(|ms| **ms <= i64::from(sla_seconds) * 1000)
            .count() as u64;
        Figures {
            group,
            name: by.and_then(|by| plans.iter().filter_map(|p| p.name(by)).max()),
            offered,
            answered: answered.len() as u64,
            abandoned,
            abandon_rate: rate(abandoned, offered),
            answered_within_sla: within,
            service_level: rate(within, offered),
            average_speed_of_answer_ms: mean(&asa),
            average_handle_ms: mean(&handle),
            p90_handle_ms: p90(&handle),
            average_talk_ms: mean(&talk),
            average_hold_ms: mean(&hold),
            average_wrap_up_ms: mean(&wrap),
            transfers: answered
                .iter()
                .filter(|(_, a)| a.transfer.is_some())
                .count() as u64,
            holds: answered.iter().map(|(_, a)| a.holds.len() as u64).sum(),
        }
    }
}
