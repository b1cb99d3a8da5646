SEARCH_URL = "http://127.0.0.1:9200"
CELERY_QUEUES = {
    "a": ["b",
}
