// Undo/redo of the hint layer: whole-layer snapshots, newest last, bounded.

export class History {
  constructor(limit = 50) {
    this.limit = limit;
    this.clear();
  }

  clear() {
    this.undoStack = [];
    this.redoStack = [];
  }

  // Call before a change, with the layer as it is now.
  record(snapshot) {
    this.undoStack.push(snapshot);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
  }

  // The snapshot to restore, or null; `current` becomes redoable.
  undo(current) {
    if (!this.undoStack.length) return null;
    this.redoStack.push(current);
    return this.undoStack.pop();
  }

  redo(current) {
    if (!this.redoStack.length) return null;
    this.undoStack.push(current);
    return this.redoStack.pop();
  }

  get canUndo() { return this.undoStack.length > 0; }
  get canRedo() { return this.redoStack.length > 0; }
}
