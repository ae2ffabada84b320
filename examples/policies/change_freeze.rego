# Change freeze: no production deployment or promotion on Friday from 16:00 in the
# environment's own time zone (`timezone:` in code.yaml), nor during a declared freeze.
#
# Written as a function of the request (`violations(request)`), so tests pass documents
# instead of overriding `input`.
package code.change_freeze

import rego.v1

# Declared freezes: local dates, first and last day included.
freezes := [{"from": "2026-12-21", "to": "2027-01-03", "reason": "year-end freeze"}]

frozen_actions := {"deploy", "promote"}

deny := violations(input)

violations(request) := friday_violations(request) | freeze_violations(request)

friday_violations(request) := {msg |
	applies(request)
	request.time.weekday == "Friday"
	request.time.hour >= 16
	local := substring(request.time.local, 11, 5)
	msg := sprintf("no prod deploys on Friday after 16:00 (%s local time is %s)", [request.time.timezone, local])
}

freeze_violations(request) := {msg |
	applies(request)
	some freeze in freezes
	request.time.date >= freeze.from
	request.time.date <= freeze.to
	msg := sprintf("change freeze %s to %s: %s", [freeze.from, freeze.to, freeze.reason])
}

applies(request) if {
	request.action in frozen_actions
	request.environment.name == "prod"
}
