from .models import Note


async def edit(note_id, text):
    note = await Note.objects.aget(pk=note_id)
    note.text = text
    await note.asave()  # expect: AG109
    return note
