"""Write a synthetic inventory folder (inventory.yaml + staff.csv + clients.csv), seeded.

python benchmarks/generate.py --staff 100000 --clients 20000 --systems 1000 --out /tmp/big
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import yaml

from residency.regions import regions

COUNTRIES = [
    "GB",
    "IE",
    "DE",
    "FR",
    "ES",
    "PT",
    "NL",
    "PL",
    "SE",
    "IT",
    "US",
    "CA",
    "CA-QC",
    "BR",
    "AR",
    "MX",
    "CO",
    "IN",
    "PH",
    "VN",
    "ID",
    "JP",
    "KR",
    "SG",
    "AU",
    "NZ",
    "ZA",
    "NG",
    "KE",
    "TR",
    "AE",
    "IL",
    "CN",
    "CH",
    "RU",
    "SA",
]
CATEGORIES = [
    "messages",
    "files",
    "contact_details",
    "tickets",
    "financial_data",
    "health_data",
    "employment_records",
    "marketing_lists",
    "source_code",
]
SUBPROCESSORS = [
    "Amazon Web Services, Inc.",
    "Google LLC",
    "Microsoft Corporation",
    "Zendesk, Inc.",
    "Twilio Inc.",
    "Cloudflare, Inc.",
    "Datadog, Inc.",
]


def generate(out: Path, *, staff: int, clients: int, systems: int, seed: int = 7) -> Path:
    """Write an inventory folder of the given size and return its path."""
    rng = random.Random(seed)
    region_keys = sorted(regions())
    out.mkdir(parents=True, exist_ok=True)
    system_ids = [f"sys{i:05d}" for i in range(systems)]
    doc = {
        "organisation": {
            "name": f"Synthetic {staff}",
            "country": "GB",
            "staff_data": {
                "data": ["employment_records", "contact_details"],
                "systems": system_ids[:2],
            },
        },
        "systems": [_system(rng, sid, region_keys) for sid in system_ids],
    }
    (out / "inventory.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    client_ids = [f"client{i:06d}" for i in range(clients)]
    with (out / "clients.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "country", "data", "systems", "residency"])
        for cid in client_ids:
            w.writerow(
                [
                    cid,
                    f"Client {cid}",
                    rng.choice(COUNTRIES),
                    ";".join(rng.sample(CATEGORIES, rng.randint(1, 4))),
                    ";".join(rng.sample(system_ids, min(len(system_ids), rng.randint(3, 6)))),
                    "EEA" if rng.random() < 0.1 else "",
                ]
            )
    with (out / "staff.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "country", "type", "entity.name", "entity.country", "clients", "systems"])
        for i in range(staff):
            country = rng.choice(COUNTRIES)
            contractor = rng.random() < 0.2
            w.writerow(
                [
                    f"s{i:06d}",
                    country,
                    "contractor" if contractor else "employee",
                    f"Contractor {i} Ltd" if contractor else "",
                    country.split("-")[0] if contractor else "",
                    ";".join(rng.sample(client_ids, min(len(client_ids), rng.randint(1, 3)))),
                    "",
                ]
            )
    return out


def _system(rng: random.Random, sid: str, region_keys: list[tuple[str, str]]) -> dict:
    hosting = [{"provider": p, "region": r} for p, r in rng.sample(region_keys, rng.randint(1, 3))]
    system = {
        "id": sid,
        "name": f"System {sid}",
        "vendor": f"Vendor {sid}",
        "vendor_country": rng.choice(COUNTRIES),
        "certifications": ["EU-US DPF"] if rng.random() < 0.5 else [],
        "safeguards": ["EU SCC 2021"] if rng.random() < 0.7 else [],
        "hosting": hosting,
        "data": rng.sample(CATEGORIES, rng.randint(2, 6)),
        "subprocessors": [
            {
                "name": name,
                "purpose": "processing",
                "countries": rng.sample(COUNTRIES, rng.randint(1, 2)),
            }
            for name in rng.sample(SUBPROCESSORS, rng.randint(1, 4))
        ],
    }
    if rng.random() < 0.3:
        system["ai_training"] = {
            "uses_customer_data": True,
            "default": "opt-out",
            "since": "2023-09-01",
            "opted_out": False,
        }
    return system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=61)
    parser.add_argument("--clients", type=int, default=34)
    parser.add_argument("--systems", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    generate(args.out, staff=args.staff, clients=args.clients, systems=args.systems, seed=args.seed)


if __name__ == "__main__":
    main()
