"""Agency screens for people absent from the registry (issue 12, item 2)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from casework.four_eyes import can_decide as can_decide_four_eyes
from certificates.models import Certificate
from damane.access import agency_required, client_ip
from registry.models import Insured
from unregistered import services
from unregistered.forms import MatchDecisionForm, PersonForm
from unregistered.models import UnregisteredPerson

PAGE_SIZE = 25


@never_cache
@agency_required
def person_list(request):
    people = (
        UnregisteredPerson.objects.select_related("recorded_by")
        .annotate(
            waiting=Case(
                When(status=UnregisteredPerson.Status.REVIEW, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-recorded_at")
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "unregistered/person_list.html", {"page": page})


@never_cache
@agency_required
@require_http_methods(["GET", "POST"])
def person_new(request):
    form = PersonForm(request.POST or None)
    registered = None
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.IDENTITY}
        try:
            person = services.unregistered_record(actor=request.user, values=values, ip_address=client_ip(request))
        except services.UnregisteredError as error:
            form.add_error("cin", str(error))
            registered = getattr(error, "insured", None)
        else:
            if person.status == UnregisteredPerson.Status.REVIEW:
                messages.warning(
                    request, _("The registry holds a possible match: a supervisor must decide before issuance.")
                )
            else:
                messages.success(request, _("No match in the registry: the certificate can be issued."))
            return redirect("unregistered:person", pk=person.pk)
    return render(request, "unregistered/person_form.html", {"form": form, "registered": registered})


def _candidates(person, holder=None):
    """The possible matches as last searched, and the record now holding the person's CIN if it is not one."""
    ids = [match["insured"] for match in person.matches]
    by_id = Insured.objects.in_bulk(ids)
    candidates = [
        {"insured": by_id[match["insured"]], "why": match["why"]}
        for match in person.matches
        if match["insured"] in by_id
    ]
    if holder is not None and holder.pk not in by_id:
        candidates.append({"insured": holder, "why": ["cin"]})
    return candidates


def _choices(candidates, holder):
    """Whom the supervisor may name: the record holding the person's CIN alone if there is one."""
    return [holder] if holder is not None else [c["insured"] for c in candidates]


def _render_person(request, person, *, form=None, status=200):
    # An exact CIN hit is a hard stop: "none of these" is not offered (unregistered.services.CinInRegistry).
    holder = services.registry_holder(person.cin) if person.status == UnregisteredPerson.Status.REVIEW else None
    candidates = _candidates(person, holder)
    can_decide = can_decide_four_eyes(services.MATCH_FOUR_EYES, person, request.user)
    if can_decide and form is None:
        form = MatchDecisionForm(candidates=_choices(candidates, holder), allow_none=holder is None)
    return render(
        request,
        "unregistered/person_detail.html",
        {
            "person": person,
            "candidates": candidates,
            "holder": holder,
            "can_decide": can_decide,
            "form": form,
            "certificates": Certificate.objects.filter(unregistered_person=person).order_by("-issued_at"),
        },
        status=status,
    )


def _person(pk):
    return get_object_or_404(
        UnregisteredPerson.objects.select_related("recorded_by", "decided_by", "linked_insured"), pk=pk
    )


@never_cache
@agency_required
def person_detail(request, pk):
    return _render_person(request, _person(pk))


@never_cache
@agency_required
@require_POST
def person_decide(request, pk):
    """Decide only on valid input; otherwise the page again, with the error, and nothing decided."""
    person = _person(pk)
    holder = services.registry_holder(person.cin)
    candidates = _choices(_candidates(person, holder), holder)
    form = MatchDecisionForm(request.POST, candidates=candidates, allow_none=holder is None)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        same = None if decision == "none" else next(i for i in candidates if str(i.pk) == decision)
        try:
            services.unregistered_decide(
                person=person,
                actor=request.user,
                same_person=same,
                note=form.cleaned_data["note"],
                ip_address=client_ip(request),
            )
        except services.UnregisteredError as error:
            form.add_error(None, str(error))
            person = _person(pk)  # as it is now: someone else may have decided meanwhile
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("unregistered:person", pk=person.pk)
    return _render_person(request, person, form=form, status=400)


@never_cache
@agency_required
@require_POST
def person_issue(request, pk):
    person = get_object_or_404(UnregisteredPerson, pk=pk)
    try:
        certificate = services.unregistered_issue(
            person=person, actor=request.user, locale=get_language() or "fr", ip_address=client_ip(request)
        )
    except services.UnregisteredError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Certificate %(number)s is issued.") % {"number": certificate.number})
    return redirect("unregistered:person", pk=person.pk)
