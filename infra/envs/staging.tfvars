environment        = "staging"
vpc_cidr           = "10.20.0.0/16"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

node_instance_types = ["t3.large"]
node_count          = { min = 2, desired = 2, max = 4 }
use_spot            = true

db_instance_class        = "db.t4g.small"
db_allocated_storage_gb  = 20
db_multi_az              = false
db_backup_retention_days = 7
backup_retention_days    = 14
