# No self-approval: whoever asked for a deployment cannot approve it.
package code.four_eyes

import rego.v1

deny := violations(input)

violations(request) := {msg |
	request.action == "approve"
	request.deployment.requested_by == request.principal.id
	msg := sprintf("%v requested deployment %v and cannot approve it: a second person must", [request.principal.id, request.deployment.id])
}
