//! `compat = "vigil"` (the default) must stay bit-identical to the estimators as they were before
//! the TRL/verl conventions were added: every output's f64 bits are pinned in
//! `fixtures/vigil_golden.txt` (written once from the earlier code with `VIGIL_BLESS=1`).

use vigil_advantage::{AdvantageConfig, AdvantageEstimator, RewardBatch};

const CONFIGS: &[&str] = &[
    "kind = \"grpo\"",
    "kind = \"grpo\"\nscale = \"batch\"",
    "kind = \"grpo\"\nscale = \"none\"",
    "kind = \"grpo\"\nepsilon = 0.1\nstd = \"population\"",
    "kind = \"dr_grpo\"",
    "kind = \"gdpo\"",
    "kind = \"gdpo\"\nbatch_norm = false",
    "kind = \"gdpo\"\nepsilon = 1e-4\nstd = \"population\"",
    "kind = \"rloo\"",
    "kind = \"reinforce_pp_baseline\"",
    "kind = \"reinforce_pp_baseline\"\nepsilon = 0.0\nstd = \"population\"",
];

/// xorshift64*: a fixed input stream that needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
    fn value(&mut self) -> f64 {
        match self.below(3) {
            0 => self.below(5) as f64 - 2.0,
            1 => (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0,
            _ => self.below(5) as f64 * 0.25,
        }
    }
}

/// Groups `[group][rollout][component]` and their weights.
type Batch = (Vec<Vec<Vec<f64>>>, Vec<f64>);

fn batches() -> Vec<Batch> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..60)
        .map(|_| {
            let n = 1 + rng.below(4);
            let groups = (0..1 + rng.below(6))
                .map(|_| {
                    let size = 2 + rng.below(7);
                    if rng.below(5) == 0 {
                        let row: Vec<f64> = (0..n).map(|_| rng.value()).collect();
                        vec![row; size]
                    } else {
                        (0..size)
                            .map(|_| (0..n).map(|_| rng.value()).collect())
                            .collect()
                    }
                })
                .collect();
            let w = (0..n).map(|_| rng.value() / 10.0).collect();
            (groups, w)
        })
        .collect()
}

fn render() -> String {
    let mut out = String::new();
    for cfg in CONFIGS {
        let est: AdvantageConfig = toml::from_str(cfg).expect("config");
        for (groups, w) in batches() {
            let b = RewardBatch::from_nested(&groups).expect("batch");
            let a = est.estimate(&b, &w).expect("estimate");
            let bits: Vec<String> = a.iter().map(|x| format!("{:016x}", x.to_bits())).collect();
            out.push_str(&bits.join(" "));
            out.push('\n');
        }
    }
    out
}

#[test]
fn vigil_compat_is_bit_identical_to_the_pinned_outputs() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vigil_golden.txt");
    let got = render();
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &got).expect("write fixture");
    }
    let want = std::fs::read_to_string(&path).expect("fixture");
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {i} ({})", CONFIGS[i / 60]);
    }
    assert_eq!(got.lines().count(), want.lines().count());
}
