from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.notifications.models import Robot
from kehu.notifications.services import notify_kinds
from kehu.users.models import Department


class RobotForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(label=_("Events it posts"), choices=(), widget=forms.CheckboxSelectMultiple)
    department = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Department.objects.order_by("path"),
        help_text=_("The robot posts the events of this department and of the departments under it."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "DingTalk: 加签, the string starting with SEC. Feishu: 签名校验. Leave empty for WeCom, "
            "or to keep the secret already saved."
        ),
    )

    class Meta:
        model = Robot
        fields = ["name", "platform", "department", "webhook_url", "secret", "keyword", "kinds", "is_active"]
        widgets = {"webhook_url": forms.TextInput(attrs={"placeholder": "https://"})}
        help_texts = {
            "keyword": _(
                "If the robot's security settings ask for a keyword (自定义关键词), enter it here: every "
                "message Kehu sends starts with it."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(k.code, k.label) for k in notify_kinds()]
        if self.instance.pk:
            # The address holds the robot's token: shown masked, kept when left empty.
            url = self.fields["webhook_url"]
            url.required = False
            url.widget.attrs["placeholder"] = self.instance.masked_url
            url.help_text = _("Leave empty to keep the address already saved.")
            self.initial["webhook_url"] = ""
        self.fields["department"].label_from_instance = lambda d: f"{'— ' * max(d.depth, 0)}{d.name}"
