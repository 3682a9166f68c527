from club.members.models import Mentor


def is_mentor(user):
    """Reads `user.github` in the caller's thread: when run through sync_to_async, the
    relation is cached on the instance afterwards."""
    github = getattr(user, "github", None)
    return github is not None and Mentor.objects.filter(member=user).exists()
