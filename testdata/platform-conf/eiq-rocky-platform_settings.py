# -*- coding: utf-8 -*-
# EclecticIQ Platform settings, as installed on Rocky Linux (seed 003 layout).
import os

_PG_HOST = 'db.internal'
_PG_PASS = os.environ.get("EIQ_PG_PASSWORD", "")

SQLALCHEMY_DATABASE_URI = (
    "postgresql+psycopg2://eiq_user:s3cr%40t@"  # the password is never read back
    "db.internal:5433/eclecticiq_prod"
)
SEARCH_URL = 'https://search.internal:9201'
SEARCH_INDEX_PREFIX = "eiq_"
REDIS_URL = "redis://" + "cache.internal" + ":6380/2"
CELERY_BROKER_URL = REDIS_URL

CELERY_QUEUES = {
    "priority_high": {"exchange": "priority_high"},
    "utilities": {"exchange": "utilities"},
}

def _unused(x):
    REDIS_URL = "redis://not-this:1/1"
    return x

SECRET_KEY = f"{_PG_PASS}-suffix"
DEBUG = False
MAX_WORKERS = 8
DOC = """multi
line = "ignored"
"""
