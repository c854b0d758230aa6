#!/usr/bin/env bash
# A tour of the API on the demo district, step by step, as a patrol, a unit, the office
# and a leader use it. Run it against `make run`:
#
#     bash scripts/tour.sh
#
# It finds every id it needs through the API itself and stops at the first step that
# does not answer as described. Needs bash, curl and python3 (standard library only).
# Settings: R, I, P (the services' URLs), DEMO (the demo accounts' username prefix),
# PASSWORD (their password).
set -euo pipefail

R=${R:-http://127.0.0.1:8001} I=${I:-http://127.0.0.1:8002} P=${P:-http://127.0.0.1:8003}
DEMO=${DEMO:-demo} PASSWORD=${PASSWORD:-demo-password}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# py EXPR: evaluate a Python expression over the JSON on stdin (bound to `j`).
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
# api METHOD URL TOKEN [curl args…]: the body on stdout; any non-2xx stops the tour.
api() {
    local method=$1 url=$2 token=$3
    shift 3
    curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" "$@" "$url"
}
token() {
    curl -sS --fail-with-body -d "username=$DEMO-$1" -d "password=$PASSWORD" "$R/v1/auth/token" |
        py 'j["access_token"]'
}
# A photo as a phone takes it: the sample JPEG with a unique comment, so no two uploads
# share bytes (a reused photo would flag the inspection as suspect).
photo() {
    python3 - "$1" "$2" <<'EOF'
import sys, uuid
data = open(sys.argv[1], "rb").read()
note = f"tour {uuid.uuid4()}".encode()
comment = b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note
open(sys.argv[2], "wb").write(data[:2] + comment + data[2:])
EOF
}

step "Sign in: the office, a patrol member, the market company's clerk, a leader"
ADMIN=$(token admin) INSP=$(token inspector) UNIT=$(token unit-market) LEAD=$(token leader)
echo "four bearer tokens"

step "Registry: the 5 points nearest to the old town within 2 km, with distances"
api GET "$R/v1/sample-points?near=28.437,118.191&radius_m=2000&limit=5" "$INSP" |
    py '"\n".join("%7.1f m  %s  %s" % (p["distance_m"], p["code"], p["name"]) for p in j["items"])'

step "A street's whole subtree, searched for 农贸, and the phone's delta sync"
STREET=$(api GET "$R/v1/divisions?level=street&limit=1" "$INSP" | py 'j["items"][0]["id"]')
api GET "$R/v1/sample-points" "$INSP" -G --data-urlencode "division=$STREET" \
    --data-urlencode "q=农贸" | py '"%d markets in the street" % len(j["items"])'
api GET "$R/v1/sample-points" "$INSP" -G --data-urlencode "updated_since=2026-01-01T00:00:00+08:00" \
    --data-urlencode "limit=3" | py '"changed since New Year: %s …" % [p["code"] for p in j["items"]]'

step "The market company's points, a market's type and its current checklist"
MARKET_UNIT=$(api GET "$R/v1/units?limit=500" "$ADMIN" | py '[u["id"] for u in j["items"] if u["code"] == "GF-NMGS"][0]')
api GET "$R/v1/sample-points?unit=$MARKET_UNIT&limit=500" "$ADMIN" >"$WORK/points.json"
POINT=$(py 'j["items"][0]["id"]' <"$WORK/points.json")
TYPE=$(py 'j["items"][0]["point_type_id"]' <"$WORK/points.json")
api GET "$R/v1/sample-points/$POINT" "$INSP" >"$WORK/point.json"
py '"%s %s (%s, %s), version %s" % (j["code"], j["name"], j["lat"], j["lon"], j["version"])' <"$WORK/point.json"
VERSION=$(api GET "$R/v1/point-types/$TYPE/checklists" "$INSP" | py 'max(c["version"] for c in j["items"])')
api GET "$R/v1/point-types/$TYPE/checklists/$VERSION" "$INSP" >"$WORK/checklist.json"
py '"checklist v%s: %d items, %s points" % (j["version"], len(j["items"]), j["max_points"])' <"$WORK/checklist.json"

step "Export the points as XLSX and import the same file back (all-or-nothing, upsert by code)"
api GET "$R/v1/sample-points/export?format=xlsx" "$ADMIN" -o "$WORK/points.xlsx"
api POST "$R/v1/sample-points/import" "$ADMIN" -F "file=@$WORK/points.xlsx" |
    py '"imported: %s" % j'

step "Optimistic concurrency: PATCH with the ETag just read; a stale one is 412"
ETAG=$(curl -sS --fail-with-body -D - -o /dev/null -H "Authorization: Bearer $ADMIN" \
    "$R/v1/sample-points/$POINT" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
MOVED=$(py 'json.dumps({"address": j["address"] + "（东门）"}, ensure_ascii=False)' <"$WORK/point.json")
BACK=$(py 'json.dumps({"address": j["address"]}, ensure_ascii=False)' <"$WORK/point.json")
V=$(api PATCH "$R/v1/sample-points/$POINT" "$ADMIN" -H "If-Match: $ETAG" \
    -H 'Content-Type: application/json' -d "$MOVED" | py 'j["version"]')
echo "address changed with If-Match $ETAG: now version $V"
STALE=$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $ADMIN" \
    -H "If-Match: $ETAG" -H 'Content-Type: application/json' -d "$BACK" "$R/v1/sample-points/$POINT")
echo "the same If-Match again: $STALE"
[ "$STALE" = 412 ]
api PATCH "$R/v1/sample-points/$POINT" "$ADMIN" -H "If-Match: \"$V\"" \
    -H 'Content-Type: application/json' -d "$BACK" | py '"address restored: version %s" % j["version"]'

step "The working calendar around National Day, the deadline policies, the archive"
api GET "$R/v1/calendar?from=2026-09-28&to=2026-10-11" "$INSP" |
    py '" ".join("%s:%s" % (d["date"][5:], d["kind"]) for d in j["items"])'
api GET "$R/v1/deadline-policies" "$ADMIN" |
    py '", ".join("%s %s %s" % (p["severity"], p["amount"], p["unit"]) for p in j["items"])'
api GET "$R/v1/archive-items/completeness" "$LEAD" | py '"%d categories checked" % len(j["items"])'

step "Inspections: upload a photo by client id (idempotent), then submit a visit with a case"
PHOTO=$(uuid)
photo "$HERE/tour/stall.jpg" "$WORK/stall.jpg"
api PUT "$I/v1/photos/$PHOTO" "$INSP" --data-binary "@$WORK/stall.jpg" | py '"photo %s (%s)" % (j["id"], j["content_type"])'
INSPECTION=$(uuid) CASE=$(uuid)
python3 - "$WORK/checklist.json" "$WORK/point.json" "$INSPECTION" "$CASE" "$PHOTO" "$POINT" \
    >"$WORK/inspection.json" <<'EOF'
import json, sys
from datetime import datetime, timedelta, timezone
checklist, point = (json.load(open(p)) for p in sys.argv[1:3])
inspection, case, photo, point_id = sys.argv[3:]
now = datetime.now(timezone.utc)
first, *rest = checklist["items"]
results = [{"item_code": first["code"], "outcome": "fail", "deduction": first["points"] / 2,
            "note": "摊外经营", "photo_ids": [photo]}]
results += [{"item_code": item["code"], "outcome": "pass", "grade": 9} for item in rest]
print(json.dumps({
    "id": inspection, "sample_point_id": point_id, "checklist_version": checklist["version"],
    "source": "woodpecker",
    "started_at": (now - timedelta(minutes=25)).isoformat(),
    "finished_at": (now - timedelta(minutes=2)).isoformat(),
    "location": {"lat": point["lat"], "lon": point["lon"], "accuracy_m": 8},
    "results": results,
    "cases": [{"id": case, "item_code": first["code"], "description": "摊外经营，占道堆放",
               "severity": "normal", "photo_ids": [photo]}],
    "epidemic": {"health_code_checked": True, "temperature_checked": True, "masks_worn": True},
}, ensure_ascii=False))
EOF
api POST "$I/v1/inspections" "$INSP" -H 'Content-Type: application/json' -d "@$WORK/inspection.json" |
    py '"score %s, passed %s, off_site %s, cases %s" % (j["score"], j["passed"], j["off_site"], j["case_ids"])'
echo "the same body again (a phone retrying):"
api POST "$I/v1/inspections" "$INSP" -H 'Content-Type: application/json' -d "@$WORK/inspection.json" \
    -o /dev/null -w '%{http_code}\n'

step "A phone catching up after a day offline: a batch, answered one by one"
python3 -c "
import json, sys, uuid
body = json.load(open('$WORK/inspection.json'))
body['id'] = str(uuid.uuid4()); body['cases'] = []
body['results'] = [dict(r, photo_ids=[]) for r in body['results']]
print(json.dumps({'inspections': [body]}, ensure_ascii=False))" >"$WORK/batch.json"
api POST "$I/v1/inspections/batch" "$INSP" -H 'Content-Type: application/json' -d "@$WORK/batch.json" |
    py '[r["status"] for r in j["results"]]'

step "Cases: the unit sees its own, rectifies with an after-photo; the patrol verifies"
api GET "$I/v1/cases?status=assigned&limit=500" "$UNIT" | py '"%d assigned to the market company" % len(j["items"])'
AFTER=$(uuid)
photo "$HERE/tour/after.jpg" "$WORK/after.jpg"
api PUT "$I/v1/photos/$AFTER" "$UNIT" --data-binary "@$WORK/after.jpg" >/dev/null
V=$(api GET "$I/v1/cases/$CASE" "$UNIT" | py 'j["version"]')
api POST "$I/v1/cases/$CASE/actions" "$UNIT" -H "If-Match: \"$V\"" -H 'Content-Type: application/json' \
    -d "{\"action\":\"rectify\",\"note\":\"已清理\",\"photo_ids\":[\"$AFTER\"]}" | py '"status %s" % j["status"]'
V=$(api GET "$I/v1/cases/$CASE" "$INSP" | py 'j["version"]')
api POST "$I/v1/cases/$CASE/actions" "$INSP" -H "If-Match: \"$V\"" -H 'Content-Type: application/json' \
    -d '{"action":"verify","note":"现场核查通过"}' | py '"status %s, on time %s" % (j["status"], j["closed_on_time"])'
api GET "$I/v1/cases/$CASE/events" "$LEAD" | py '" → ".join(e["action"] for e in j["items"])'

step "An expert group's findings, imported all-or-nothing"
CODE=$(py 'j["items"][0]["code"]' <"$WORK/points.json")
printf 'sample_point_code,description,severity\n%s,垃圾桶满溢未及时清运,normal\n%s,病媒防制设施缺失,complex\n' \
    "$CODE" "$CODE" >"$WORK/expert_findings.csv"
api POST "$I/v1/cases/import" "$ADMIN" -F "file=@$WORK/expert_findings.csv" | py '"imported: %s" % j'

step "Citizens' reports: Open311 GeoReport v2, as a WeChat mini-program or the 12345 hotline posts them"
KEY=$(api POST "$I/v1/open311/api-keys" "$ADMIN" -H 'Content-Type: application/json' \
    -d '{"name":"WeChat mini-program (tour)"}' | py 'j["api_key"]')
echo "the integrator's key, shown this once: ${KEY:0:12}…"
curl -sS --fail-with-body "$I/open311/v2/services.json?api_key=$KEY" |
    py '"%d services, e.g. %s in %s" % (len(j), j[0]["service_name"], j[0]["group"])'
SERVICE=$(api GET "$R/v1/point-types/$TYPE" "$INSP" | py 'j["code"]')
curl -sS --fail-with-body "$I/open311/v2/services/$SERVICE.xml?api_key=$KEY" | python3 -c '
import sys, xml.etree.ElementTree as ET
values = ET.parse(sys.stdin).getroot().findall("attributes/attribute/values/value")
print("attribute item (XML): %d checklist requirements" % len(values))'
LAT=$(py 'j["lat"]' <"$WORK/point.json") LON=$(py 'j["lon"]' <"$WORK/point.json")
RETRY=$(uuid)
report() {
    curl -sS --fail-with-body -H "Idempotency-Key: $RETRY" "$I/open311/v2/requests.json" \
        --data-urlencode "api_key=$KEY" --data-urlencode "service_code=$SERVICE" \
        --data-urlencode "lat=$LAT" --data-urlencode "long=$LON" \
        --data-urlencode "description=市场门口垃圾满溢，无人清理" -w '\n%{http_code}\n'
}
report >"$WORK/report.txt"
REPORT=$(head -1 "$WORK/report.txt" | py 'j[0]["service_request_id"]')
echo "posted: $(tail -1 "$WORK/report.txt"), request $REPORT; the same Idempotency-Key again: $(report | tail -1)"
api GET "$I/v1/cases/$REPORT" "$ADMIN" >"$WORK/report_case.json"
py '"the office sees a %s case, %s, duplicate candidates within 50 m: %d" % (j["source"], j["status"], len(j["duplicate_candidates"]))' <"$WORK/report_case.json"
SURVIVOR=$(py '(j["duplicate_candidates"] or [""])[0]' <"$WORK/report_case.json")
if [ -n "$SURVIVOR" ]; then
    V=$(py 'j["version"]' <"$WORK/report_case.json")
    api POST "$I/v1/cases/$REPORT/actions" "$ADMIN" -H "If-Match: \"$V\"" -H 'Content-Type: application/json' \
        -d "{\"action\":\"mark_duplicate\",\"duplicate_of\":\"$SURVIVOR\"}" | py '"marked duplicate: %s" % j["status"]'
fi
curl -sS --fail-with-body "$I/open311/v2/requests/$REPORT.json?api_key=$KEY" |
    py '"the citizen sees: %s — %s" % (j[0]["status"], j[0]["status_notes"])'

step "Reporting: who fixes problems on time, last month (JSON, and XLSX with Chinese headings)"
MONTH=$(python3 -c 'from datetime import date; d = date.today().replace(day=1); m = d.month - 1 or 12; print(f"{d.year - (d.month == 1)}-{m:02d}")')
api GET "$P/v1/reports/units?month=$MONTH" "$LEAD" |
    py '"\n".join("%3s %s %s" % (r["rank"] or "-", r["grade"] or "-", r["unit_name"]) for r in j["items"][:5])'
api GET "$P/v1/reports/units?month=$MONTH&format=xlsx" "$LEAD" -H 'Accept-Language: zh-CN' -o "$WORK/units.xlsx"
echo "units.xlsx: $(wc -c <"$WORK/units.xlsx") bytes"
api GET "$P/v1/reports/coverage" "$LEAD" | py '"%d blind spots of %d points" % (len(j["blind_spots"]), len(j["items"]))'
api GET "$P/v1/reports/inspectors" "$LEAD" | py '"%d patrol members" % len(j["items"])'
api GET "$P/v1/reports/red-black-list?month=$MONTH" "$LEAD" | py '"black %d, red %d" % (len(j["black"]), len(j["red"]))'
api GET "$P/v1/reports/bulletin?month=$MONTH" "$LEAD" -o "$WORK/bulletin.pdf"
echo "bulletin.pdf: $(wc -c <"$WORK/bulletin.pdf") bytes"

step "Accountability: the office runs last month's rules; the unit acknowledges its notice"
api POST "$P/v1/accountability/runs" "$ADMIN" -H 'Content-Type: application/json' \
    -d "{\"period\":\"$MONTH\"}" | py '"black %d, notices created %s" % (len(j["black"]), j["notices_created"])'
NOTICE=$(api GET "$P/v1/accountability/notices?limit=500" "$UNIT" |
    py 'next((n["id"] for n in j["items"] if not n["acknowledged_at"]), "")')
if [ -n "$NOTICE" ]; then
    api POST "$P/v1/accountability/notices/$NOTICE/acknowledge" "$UNIT" | py '"acknowledged %s" % j["id"]'
else
    echo "the market company has no notice to acknowledge"
fi

step "Done: every step answered as described"
