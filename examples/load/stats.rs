//! Figures: latency samples, and the report every scenario prints as a table and can write as
//! JSON.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// Latency samples in milliseconds, shared between a scenario's tasks.
#[derive(Clone, Default)]
pub struct Samples(Arc<Mutex<Vec<f64>>>);

impl Samples {
    pub fn push(&self, ms: f64) {
        if let Ok(mut v) = self.0.lock() {
            v.push(ms);
        }
    }

    pub fn summary(&self) -> Summary {
        let mut all = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        all.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        Summary {
            count: all.len(),
            p50: pct(0.5),
            p99: pct(0.99),
            max: pct(1.0),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// One scenario's (or one part's) figures, in the order they were added.
pub struct Report {
    pub scenario: String,
    rows: Vec<(String, Value, String)>,
}

impl Report {
    pub fn new(scenario: impl Into<String>) -> Self {
        Report {
            scenario: scenario.into(),
            rows: Vec::new(),
        }
    }

    /// A figure with its unit (`"ms"`, `"/s"`, `"KiB"`, or `""`).
    pub fn add(&mut self, name: &str, value: impl Into<Value>, unit: &str) -> &mut Self {
        self.rows.push((name.into(), value.into(), unit.into()));
        self
    }

    /// `name p50`, `name p99`, `name max` in ms.
    pub fn latency(&mut self, name: &str, s: Summary) -> &mut Self {
        self.add(&format!("{name} p50"), round(s.p50), "ms")
            .add(&format!("{name} p99"), round(s.p99), "ms")
            .add(&format!("{name} max"), round(s.max), "ms")
    }

    pub fn print(&self) {
        println!("\n{}", self.scenario);
        let width = self.rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        for (name, value, unit) in &self.rows {
            let shown = match value {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            println!("  {name:<width$}  {shown:>12} {unit}");
        }
    }

    pub fn to_json(&self) -> Value {
        let mut figures = Map::new();
        for (name, value, unit) in &self.rows {
            figures.insert(name.clone(), json!({ "value": value, "unit": unit }));
        }
        json!({ "scenario": self.scenario, "figures": figures })
    }
}

/// Two decimals are plenty for milliseconds and rates.
pub fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
