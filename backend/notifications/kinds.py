"""What a notification can be about, and the channels that carry it.

Preferences are per kind and channel; the in-app centre is always on. Kinds whose source lands later
(due soon, overdue, HR messages) are listed already, so preferences and the catalog know them.
"""

from __future__ import annotations

KIND_POINTS_CREDITED = "points_credited"
KIND_REDEMPTION_REQUESTED = "redemption_requested"  # to the people who may decide it
KIND_REDEMPTION_DECIDED = "redemption_decided"  # approved or rejected
KIND_REDEMPTION_FULFILLED = "redemption_fulfilled"
KIND_SUBMISSION_GRADED = "submission_graded"
KIND_SUBMISSION_RETURNED = "submission_returned"  # 需修改: returned for revision
KIND_REFLECTION_PEER = "reflection_peer"  # likes and comments, batched per reflection
KIND_COURSE_NEW = "course_new"  # a new course for my department or position
KIND_DUE_SOON = "due_soon"
KIND_OVERDUE = "overdue"
KIND_HR_MESSAGE = "hr_message"

KINDS = (
    KIND_DUE_SOON,
    KIND_OVERDUE,
    KIND_SUBMISSION_RETURNED,
    KIND_SUBMISSION_GRADED,
    KIND_REFLECTION_PEER,
    KIND_POINTS_CREDITED,
    KIND_REDEMPTION_REQUESTED,
    KIND_REDEMPTION_DECIDED,
    KIND_REDEMPTION_FULFILLED,
    KIND_COURSE_NEW,
    KIND_HR_MESSAGE,
)

# What may also be posted to a group (WeCom/DingTalk robots, the mailing list): one message per
# reminder naming the people it is for. Personal kinds (points, grades, likes) never are.
GROUP_KINDS = (KIND_HR_MESSAGE, KIND_DUE_SOON, KIND_OVERDUE, KIND_COURSE_NEW)

CHANNEL_IN_APP = "in_app"
CHANNEL_WEB_PUSH = "web_push"
CHANNEL_WECOM = "wecom"
CHANNEL_DINGTALK = "dingtalk"
CHANNEL_EMAIL = "email"
# Channels outside the app: each needs the organisation to enable it, and respects quiet hours.
OUTSIDE_CHANNELS = (CHANNEL_WEB_PUSH, CHANNEL_WECOM, CHANNEL_DINGTALK, CHANNEL_EMAIL)

# The catalog prefix of a kind's messages: "<prefix>.<variant>.title" and ".body".
MESSAGE_PREFIX = "notifications.msg"


def message_key(variant: str) -> str:
    return f"{MESSAGE_PREFIX}.{variant}"
