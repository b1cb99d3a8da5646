# EclecticIQ Platform settings (hotsnap lab).
SQLALCHEMY_DATABASE_URI = "postgresql://eclecticiq@127.0.0.1:5432/eclecticiq"
SEARCH_URL = "http://127.0.0.1:9200"
REDIS_URL = "redis://127.0.0.1:6379/0"
CELERY_BROKER_URL = REDIS_URL
CELERY_DEFAULT_QUEUE = "celery"
PLATFORM_HOSTNAME = "10.77.16.11"
LOG_LEVEL = "INFO"
