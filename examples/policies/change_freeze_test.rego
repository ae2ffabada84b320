package code.change_freeze_test

import rego.v1

import data.code.change_freeze

at(weekday, hour, date) := {
	"weekday": weekday, "hour": hour, "date": date, "timezone": "Europe/Paris",
	"local": sprintf("%sT%d:30:00+01:00", [date, hour]),
}

request(env, time) := {"action": "deploy", "environment": {"name": env}, "time": time}

# literal documents: regopy 1.5 quotes strings that reach sprintf through a function argument
friday_afternoon := {
	"action": "deploy",
	"environment": {"name": "prod"},
	"time": {"weekday": "Friday", "hour": 16, "date": "2026-12-04", "timezone": "Europe/Paris", "local": "2026-12-04T16:30:00+01:00"},
}

test_friday_afternoon_in_prod_is_refused if {
	change_freeze.violations(friday_afternoon) == {"no prod deploys on Friday after 16:00 (Europe/Paris local time is 16:30)"}
}

test_friday_morning_is_allowed if {
	change_freeze.violations(request("prod", at("Friday", 11, "2026-12-04"))) == set()
}

test_friday_afternoon_in_staging_is_allowed if {
	change_freeze.violations(request("staging", at("Friday", 17, "2026-12-04"))) == set()
}

test_declared_freeze_is_refused if {
	change_freeze.violations(request("prod", at("Tuesday", 10, "2026-12-22"))) == {"change freeze 2026-12-21 to 2027-01-03: year-end freeze"}
}

test_rollback_during_freeze_is_allowed if {
	rollback := object.union(request("prod", at("Friday", 17, "2026-12-25")), {"action": "rollback"})
	change_freeze.violations(rollback) == set()
}
