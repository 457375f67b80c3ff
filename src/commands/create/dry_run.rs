//! `--dry-run` (SPEC §4 "Dry run"): steps 1–6 exactly as a real run (the same refusals
//! and exit codes), then the plan — what a real run would upload, make, create, edit and
//! point where, and what the server costs — and no write of any kind: no POST, PUT or
//! DELETE, no file, no saved token.

use serde::Serialize;

use super::super::{json_line, print};
use super::dns::{self, RecordOut};
use super::firewall;
use super::plan::CreatePlan;
use crate::cli::CreateArgs;
use crate::deploy_file::{self, NEW_ADDRESS, Report};
use crate::error::Result;
use crate::hetzner::{Price, Rule, kamal_rules};
use crate::session;
use crate::ssh::keys as ssh_keys;
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// `{"dry_run": true, "plan": {...}}`.
#[derive(Serialize)]
struct Out {
    dry_run: bool,
    plan: PlanOut,
}

/// The plan, keys in SPEC order; `id` is null for what a real run would make.
#[derive(Serialize)]
struct PlanOut {
    server: ServerPlan,
    resumed: bool,
    ssh_key: Option<KeyPlan>,
    firewall: Option<FirewallPlan>,
    kamal: Report,
    dns: Vec<RecordOut>,
}

#[derive(Serialize)]
struct ServerPlan {
    name: String,
    server_type: Untrusted,
    cores: Option<u32>,
    memory_gb: Option<f64>,
    disk_gb: Option<f64>,
    image: Untrusted,
    location: Untrusted,
    price: Option<Price>,
}

#[derive(Serialize)]
struct KeyPlan {
    id: Option<u64>,
    name: Untrusted,
    uploaded: bool,
}

#[derive(Serialize)]
struct FirewallPlan {
    id: Option<u64>,
    name: Untrusted,
    created: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<Vec<Rule>>,
}

/// Print the plan of this run (stdout), and nothing else.
pub fn show(args: &CreateArgs, plan: &CreatePlan, ui: &Ui) -> Result<()> {
    let existing = plan.existing.as_ref();
    let own_address = existing.and_then(|s| s.address()).map(|a| a.to_string());
    let kamal = deploy_file::dry_run(&plan.kamal, &plan.project, own_address.as_deref());
    let new = own_address.as_deref().unwrap_or(NEW_ADDRESS);
    let dns = dns::planned(&plan.dns, existing);
    let out = PlanOut {
        server: server_plan(args, plan),
        resumed: existing.is_some(),
        ssh_key: key_plan(plan),
        firewall: firewall_plan(plan),
        kamal,
        dns,
    };
    if args.json {
        return print(&json_line(&Out {
            dry_run: true,
            plan: out,
        })?);
    }
    print(&human(args, plan, &out, new, ui))
}

fn server_plan(args: &CreateArgs, plan: &CreatePlan) -> ServerPlan {
    let (t, price) = match &plan.existing {
        Some(s) => (
            plan.priced
                .server_type
                .as_ref()
                .filter(|t| &t.name == s.type_name()),
            plan.priced.of(s),
        ),
        None => (plan.priced.server_type.as_ref(), plan.priced.planned(args)),
    };
    let (image, location) = match &plan.existing {
        Some(s) => (s.image_name(), s.location_name().clone()),
        None => (
            Untrusted::new(args.image.as_str()),
            Untrusted::new(args.location.as_str()),
        ),
    };
    ServerPlan {
        name: args.name.clone(),
        server_type: t
            .map(|t| t.name.clone())
            .unwrap_or_else(|| Untrusted::new(args.server_type.as_str())),
        cores: t.map(|t| t.cores),
        memory_gb: t.map(|t| t.memory),
        disk_gb: t.map(|t| t.disk),
        image,
        location,
        price,
    }
}

fn key_plan(plan: &CreatePlan) -> Option<KeyPlan> {
    if let Some(k) = plan.key_on_hetzner() {
        return Some(KeyPlan {
            id: Some(k.id),
            name: k.name.clone(),
            uploaded: false,
        });
    }
    // A picked-up server gets no key.
    if plan.existing.is_some() {
        return None;
    }
    let taken: Vec<&str> = plan.keys.iter().map(|k| k.name.raw()).collect();
    Some(KeyPlan {
        id: None,
        name: Untrusted::new(ssh_keys::free_name(&plan.key.stem(), &taken)),
        uploaded: true,
    })
}

fn firewall_plan(plan: &CreatePlan) -> Option<FirewallPlan> {
    if let Some(s) = &plan.existing {
        return firewall::attached(s, &plan.firewall).map(|f| FirewallPlan {
            id: Some(f.id),
            name: f.name,
            created: false,
            rules: None,
        });
    }
    match &plan.firewall {
        firewall::Plan::None => None,
        firewall::Plan::Use(f) => Some(FirewallPlan {
            id: Some(f.id),
            name: f.name.clone(),
            created: false,
            rules: None,
        }),
        firewall::Plan::Make { name, ssh_port } => Some(FirewallPlan {
            id: None,
            name: Untrusted::new(name.as_str()),
            created: true,
            rules: Some(kamal_rules(*ssh_port)),
        }),
    }
}

/// A size in GB as the API gives it (0.5, 4, 160) as `{}` writes a float, to the
/// millionth: in integers, as float formatting would add 12 KB to the binary (SPEC §1).
fn gb(size: f64) -> String {
    // (`as` saturates: a negative or NaN size is 0.)
    let millionths = (size * 1e6).round() as u64;
    let (whole, frac) = (millionths / 1_000_000, millionths % 1_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:06}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// The plan at a glance.
fn human(args: &CreateArgs, plan: &CreatePlan, out: &PlanOut, new: &str, ui: &Ui) -> String {
    let s = &out.server;
    let size = match (s.cores, s.memory_gb, s.disk_gb) {
        (Some(c), Some(m), Some(d)) => {
            format!(" ({c} vCPU, {} GB RAM, {} GB disk)", gb(m), gb(d))
        }
        _ => String::new(),
    };
    let mut text = format!(
        "Dry run: nothing was created, uploaded or written. A real run would:\n  server    {}: {}{size}, {}, {}\n",
        s.name, s.server_type, s.image, s.location
    );
    if let Some(p) = &s.price {
        text.push_str(&format!("  price     {p} ({})\n", p.per_hour()));
    }
    if out.resumed {
        text.push_str(&format!(
            "  pick up   {} exists (made by pegasus): no new server, no upload, no firewall change\n",
            s.name
        ));
    }
    let home = session::home_dir();
    let key_file = match &home {
        Some(h) => session::tilde(&plan.key.path, h),
        None => plan.key.path.display().to_string(),
    };
    match &out.ssh_key {
        Some(k) if !k.uploaded => text.push_str(&format!(
            "  SSH key   {} (on Hetzner as '{}')\n",
            escape(&key_file),
            k.name
        )),
        Some(k) => text.push_str(&format!(
            "  SSH key   {}, uploaded as '{}'\n",
            escape(&key_file),
            k.name
        )),
        None => {}
    }
    match &out.firewall {
        Some(f) if f.created => text.push_str(&format!(
            "  firewall  {}, made: inbound TCP {}, 80, 443 and ICMP from anywhere\n",
            f.name, plan.ssh.port
        )),
        Some(f) => text.push_str(&format!("  firewall  {} (used as it is)\n", f.name)),
        None => text.push_str("  firewall  none\n"),
    }
    if args.kamal.no_kamal {
        text.push_str("  Kamal     not read (--no-kamal)\n");
    }
    let paint = |t: &str, c: &str| ui.paint_out(t, c);
    let kamal = deploy_file::human_lines(&out.kamal, new, &paint);
    if !kamal.is_empty() {
        text.push('\n');
        for l in &kamal {
            // Said as what a real run would do.
            let l = match l.strip_prefix("Updated ") {
                Some(rest) => format!("Would update {rest}"),
                None => l.replace(" is now ", " would become "),
            };
            text.push_str(&l);
            text.push('\n');
        }
    }
    let dns = dns::planned_lines(&out.dns);
    if !dns.is_empty() {
        text.push('\n');
        dns.iter().for_each(|l| {
            text.push_str(l);
            text.push('\n');
        });
    }
    text
}

#[cfg(test)]
mod tests {
    use super::gb;

    #[test]
    fn sizes_read_as_float_display_would() {
        for size in [
            0.5, 1.0, 4.0, 16.0, 160.0, 240.0, 2.5, 0.25, 1.125, 3.7, 0.0,
        ] {
            assert_eq!(gb(size), format!("{size}"));
        }
        assert_eq!(gb(-1.0), "0");
        assert_eq!(gb(f64::NAN), "0");
    }
}
