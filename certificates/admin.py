from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certificates.models import Certificate
from certificates.services import CertificateError, certificate_revoke
from damane.access import client_ip


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    """Certificates are snapshots: read-only here, revoked with a reason (audited)."""

    list_display = ["number", "kind", "insured", "issued_on", "valid_until", "channel", "revoked_at"]
    list_filter = ["kind", "channel", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "public_id", "verification_code", "insured__cnss_number", "insured__last_name"]
    readonly_fields = [f.name for f in Certificate._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected certificates"), permissions=["view"])
    def revoke(self, request, queryset):
        if "apply" in request.POST:
            form = RevokeForm(request.POST)
            if form.is_valid():
                done = 0
                for certificate in queryset:
                    try:
                        certificate_revoke(
                            certificate=certificate,
                            actor=request.user,
                            reason=form.cleaned_data["reason"],
                            ip_address=client_ip(request),
                        )
                        done += 1
                    except CertificateError as error:
                        self.message_user(request, f"{certificate.number}: {error}", messages.WARNING)
                self.message_user(
                    request,
                    ngettext("%(count)d certificate revoked.", "%(count)d certificates revoked.", done)
                    % {"count": done},
                    messages.SUCCESS,
                )
                return redirect(request.get_full_path())
        else:
            form = RevokeForm()
        return render(
            request,
            "admin/certificates/revoke.html",
            {**self.admin_site.each_context(request), "form": form, "certificates": queryset, "opts": self.model._meta},
        )
