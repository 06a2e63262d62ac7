from django.contrib.auth.backends import ModelBackend

from wuye.accounts.models import User


class MobileOrUsernameBackend(ModelBackend):
    """Sign in with a username or an 11-digit mobile and a password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        identifier = username.strip()
        field = "mobile" if identifier.isdigit() and len(identifier) == 11 else "username"
        try:
            user = User.objects.get(**{field: identifier})
        except User.DoesNotExist:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
