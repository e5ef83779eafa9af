"""Search insights: what shoppers search for, click and never find, and what the ranking
learns from their clicks. Self-hosted and private by design (no raw IP, cookie or user id).

    search (services) -> recording: the event, buffered in Redis -> draining (beat): rows
    POST /api/v1/events -> recording: checked against what that search showed -> rows
    rollups (beat): raw events -> daily rows the dashboard and JSON read; raw purged later
    clicks (beat): raw events -> ClickSignal -> a bounded boost in the ranking
"""
