//! The sanity rows of `bench integrations`: the same two clients at a small N against moto in
//! server mode (`testkit::Moto`, from `tools/moto-venv`), the AWS-protocol server the tests
//! use. moto serves PutItem in Python, so these rows measure mostly moto; they show that dmap
//! and boto3 make the same calls to a real DynamoDB implementation (the tables are created
//! first, as DynamoDB needs, and counted with a Scan afterwards).

use anyhow::{Context, ensure};
use serde_json::Value;

use super::clients::{self, Resource};
use super::{Args, Runs, Setup, data_of};
use crate::cpu;
use crate::scenarios::distributed::write_def;

/// Items of the untimed warm-up run of each client.
const WARM: u64 = 100;

/// (dmap's runs per resource, boto3's runs, moto's version).
pub(super) fn measure(a: &Args, s: &Setup) -> anyhow::Result<(Vec<Runs>, Runs, String)> {
    let n = a.moto_items;
    let data = s.work.join("data-moto");
    data_of(&data, n)?;
    let items = data.join("items.jsonl");
    let before = cpu::children();
    let moto = testkit::Moto::start();
    let started: Vec<u32> = cpu::children().into_iter().filter(|p| !before.contains(p)).collect();
    let [pid] = started[..] else { anyhow::bail!("expected moto as the one new child process, found {started:?}") };
    let watched = [pid];

    let dmap_table = |r: Resource, round: &str| format!("moto-dmap-{r:?}-{round}");
    let mut tables = Vec::new();
    let rounds: Vec<String> = (0..a.runs).map(|i| i.to_string()).collect();
    for round in std::iter::once("warm").chain(rounds.iter().map(String::as_str)) {
        tables.extend(a.resources.iter().map(|r| dmap_table(*r, round)));
        tables.push(format!("moto-boto3-{round}"));
    }
    moto.python(&format!(
        "import boto3\nc = boto3.client('dynamodb')\nfor t in {tables:?}:\n    c.create_table(TableName=t, \
         KeySchema=[{{'AttributeName': 'pk', 'KeyType': 'HASH'}}], AttributeDefinitions=[{{'AttributeName': 'pk', \
         'AttributeType': 'S'}}], BillingMode='PAY_PER_REQUEST')\n"
    ));
    let version = moto.python("import moto; print(moto.__version__)").trim().to_string();

    let mut dmap_runs: Vec<Runs> = a.resources.iter().map(|_| Runs::default()).collect();
    for (r, runs) in a.resources.iter().zip(&mut dmap_runs) {
        let def =
            write_def(&s.work, "moto-warm.json", &clients::definition(*r, &dmap_table(*r, "warm"), Some(WARM), None))?;
        if let Err(e) = clients::dmap(&s.dmap, &def, &data, &s.work, &moto.url(), &watched) {
            runs.cannot = Some(match e.downcast::<clients::Failed>() {
                Ok(f) => format!("dmap refused the run: {}", f.stderr.replace(&format!("{}: ", def.display()), "")),
                Err(e) => return Err(e),
            });
        }
    }
    s.boto3.run(&items, WARM.min(n), "moto-boto3-warm", &s.work, &moto.url(), &watched)?;
    let mut boto3_runs = Runs::default();
    for round in &rounds {
        for (r, runs) in a.resources.iter().zip(&mut dmap_runs) {
            if runs.cannot.is_none() {
                let def = write_def(
                    &s.work,
                    "moto.json",
                    &clients::definition(*r, &dmap_table(*r, round), None, a.max_concurrency),
                )?;
                runs.runs.push(clients::dmap(&s.dmap, &def, &data, &s.work, &moto.url(), &watched)?);
            }
        }
        boto3_runs.runs.push(s.boto3.run(&items, n, &format!("moto-boto3-{round}"), &s.work, &moto.url(), &watched)?);
    }

    // Every timed run's table holds its N items.
    let counts: Value = serde_json::from_str(&moto.python(&format!(
        "import boto3, json\nc = boto3.client('dynamodb')\nout = {{}}\nfor t in {tables:?}:\n    n = 0\n    for p in \
         c.get_paginator('scan').paginate(TableName=t, Select='COUNT'):\n        n += p['Count']\n    out[t] = n\n\
         print(json.dumps(out))\n"
    )))
    .context("moto's table counts")?;
    for round in &rounds {
        let mut timed = vec![format!("moto-boto3-{round}")];
        for (r, runs) in a.resources.iter().zip(&dmap_runs) {
            if runs.cannot.is_none() {
                timed.push(dmap_table(*r, round));
            }
        }
        for t in timed {
            ensure!(counts[&t].as_u64() == Some(n), "moto's table {t} holds {} items, {n} were put", counts[&t]);
        }
    }
    Ok((dmap_runs, boto3_runs, version))
}
