environment        = "prod"
vpc_cidr           = "10.30.0.0/16"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

node_instance_types = ["m6i.large"]
node_count          = { min = 3, desired = 3, max = 10 }
use_spot            = false

db_instance_class        = "db.m6g.large"
db_allocated_storage_gb  = 100
db_multi_az              = true
db_backup_retention_days = 35
backup_retention_days    = 90
