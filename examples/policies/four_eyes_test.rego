package code.four_eyes_test

import rego.v1

import data.code.four_eyes

request(by, requester) := {
	"action": "approve",
	"principal": {"id": by},
	"deployment": {"id": 7, "requested_by": requester},
}

# literal documents: regopy 1.5 quotes strings that reach sprintf through a function argument
self_approval := {"action": "approve", "principal": {"id": "alice"}, "deployment": {"id": 7, "requested_by": "alice"}}

test_self_approval_is_refused if {
	four_eyes.violations(self_approval) == {"alice requested deployment 7 and cannot approve it: a second person must"}
}

test_second_person_may_approve if {
	four_eyes.violations(request("bob", "alice")) == set()
}
